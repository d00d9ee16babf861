/**
 * `tinypipe demo --standalone`: the boards tell the story with no computer attached (docs/protocol.md
 * §4.5, issue 21). Plan a ring (the whole classifier on the last board, which samples), build it (the
 * tokenizer in board 0's image, board 0's story settings), start simulated ESP32-S3 boards wired as a
 * ring, flash them over the ESP ROM protocol — then the host closes every port and only reads board 0's
 * console. Each story it prints is checked against the host's own run (QuantEngine, the same sampler,
 * prompt and seed). `--kill B` pulls board B's cable mid-story and plugs it back: the console says so and
 * the next story runs.
 */
import { generateText, QuantEngine, quantize, Sampler } from '@tinypipe/core';
import { buildPosixBoard } from '@tinypipe/firmware';
import { buildPlan, describeHolding, planModel } from '@tinypipe/partitioner';
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { floatFlag, uintFlag } from '../io/options.js';
import { resolveProfile } from '../io/profiles.js';
import { makeTempDir } from '../io/temp.js';
import type { DemoFlags } from './demo/flags.js';
import {
  flashRing,
  PortLedger,
  type PortOpener,
  type RingBoardProcess,
  type RingStart,
  ringBoardArgs,
  startRingBoard,
  stopRingBoard,
} from './ring/boards.js';
import { statusLines, storiesSeconds, storyEnd, storyHeader, storyText } from './ring/console.js';
import { ringBuildOptions, ringSettings } from './ring/settings.js';

/** The options `--standalone` adds to `tinypipe demo`. */
export interface StandaloneDemoFlags {
  standalone?: boolean;
  temperature?: number;
  topp?: number;
  stories?: number;
  kill?: number;
}

/** Adds `--standalone` and its options to the demo command. */
export function addStandaloneOptions(demo: Command): void {
  demo
    .option(
      '--standalone',
      "a standalone ring (docs/protocol.md §4.5): the boards tell the stories themselves — board 0 tokenizes and prints, the last board samples and sends each token back to board 0; after flashing the host only reads board 0's console",
    )
    .option(
      '--temperature <t>',
      '--standalone: sampling temperature, 0 greedy (default 0.8)',
      floatFlag('--temperature'),
    )
    .option('--topp <p>', '--standalone: top-p (default 0.9)', floatFlag('--topp'))
    .option(
      '--stories <n>',
      '--standalone: stories board 0 tells before the demo ends (default: --streams, or 2 with --kill); story n is seeded --seed + n − 1',
      uintFlag('--stories'),
    )
    .option(
      '--kill <board>',
      '--standalone: kill board B (1 … boards − 1) in the middle of story 1 and start it again (it boots from its flash): the ring reports it, abandons the story and tells the next',
      uintFlag('--kill'),
    );
}

/** One story as board 0 told it, and whether the host's run tells the same. */
export interface RingStory {
  story: number;
  seed: number;
  text: string;
  tokens: number;
  tokensPerSecond: number | null;
  abandoned: string | null;
  /** Null for an abandoned story (nothing to compare). */
  identicalToHost: boolean | null;
}

/** Runs `tinypipe demo --standalone`; `open` opens the flasher's serial ports (the host's only ones). */
export async function runStandaloneDemo(
  ctx: CliContext,
  given: DemoFlags & StandaloneDemoFlags,
  open: PortOpener = openSerialPort,
): Promise<void> {
  if (given.ber > 0) throw usageError('--ber: a ring has no host link to damage (drop it with --standalone)');
  if (given.embedding === 'host') throw usageError('--embedding host: in a ring board 0 embeds (no host)');
  if (given.trace)
    throw usageError('--trace traces the host’s links: a ring has none (drop it with --standalone)');
  if (given.splitClassifier)
    throw usageError(
      '--split-classifier: in a ring the last board samples, so it holds the whole classifier (drop it with --standalone)',
    );
  if (given.hashes)
    throw usageError(
      '--hashes: layer hashes travel to a host link, and a ring has none (drop it with --standalone)',
    );
  const say = (s: string) => (given.json ? undefined : ctx.stderr.write(s));
  const { checkpoint, label } = await loadModel(ctx, given.model);
  if (given.seqLen !== undefined && (given.seqLen < 1 || given.seqLen > checkpoint.config.seqLen))
    throw usageError(`--seq-len must be 1 to the model's ${checkpoint.config.seqLen}`);
  const c = { ...checkpoint.config, seqLen: given.seqLen ?? checkpoint.config.seqLen };
  const n = given.boards;
  if (n < 1 || n > c.nLayers) throw usageError(`--boards must be 1 to ${c.nLayers} (the model's layers)`);
  if (given.kill !== undefined && (given.kill < 1 || given.kill >= n))
    throw usageError(`--kill must name a board 1 … ${n - 1}: board 0 tells the stories`);
  const parallel = given.streams ?? 1;
  const stories = given.stories ?? (given.kill !== undefined ? 2 : parallel);
  if (stories < 1) throw usageError('--stories must be at least 1');
  const settings = ringSettings({
    prompt: given.prompt,
    steps: given.steps,
    temperature: given.temperature ?? 0.8,
    topp: given.topp ?? 0.9,
    seed: given.seed ?? Math.floor(Date.now() / 1000) % 2_147_483_648,
    parallel,
  });
  const tokenizer = await loadTokenizer(ctx, given.tokenizer, c.vocabSize);
  const qm = quantize({ ...checkpoint, config: c }, { weights: given.quant });
  const profile = await resolveProfile(ctx, given.emulate ?? given.profile ?? 'esp32s3-n16r8');
  const plan = planModel({
    model: { name: label, source: label, config: c, kind: given.quant, groupSize: 32 },
    boards: Array.from({ length: n }, () => profile),
    objective: given.objective ?? (parallel > 1 ? 'throughput' : 'latency'),
    streams: parallel,
    standalone: true,
    ...(given.kv ? { kv: given.kv } : {}),
  });
  const builds = buildPlan(plan, qm, ringBuildOptions(settings, tokenizer));
  say(
    `tinypipe demo --standalone: ${label} (${c.nLayers} layers, dim ${c.dim}, vocab ${c.vocabSize}) ${given.quant}, ${plan.kv} KV cache, on a ring of ${n} simulated ESP32-S3 board(s)\n` +
      plan.boards
        .map(
          (b) =>
            `  board ${b.index}: ${describeHolding(b, c.vocabSize)}${b.index === 0 ? ' + tokenizer: tells the stories' : ''}${b.vocab ? ': samples' : ''}, image ${(builds[b.index]!.files[0]!.bytes.length / 1e6).toFixed(2)} MB`,
        )
        .join('\n') +
      '\n',
  );

  const temp = makeTempDir('demo-ring');
  const start: RingStart = {
    program: buildPosixBoard().board,
    plan,
    dir: temp.path,
    streams: parallel,
    // no story option: board 0 tells the stories its image's defaults say (docs/image-format.md §4c), as an
    // ESP-IDF board powered with no computer attached does; only when to stop is the simulation's
    driver: { stories, console: 'stdio' },
    ...(given.emulate
      ? {
          // as tinypipe demo paces a host-driven board (demo/boards.ts), so the two compare
          pace: (i: number) => ({
            stageUs: (plan.boards[i]!.predicted.layersMs + plan.boards[i]!.predicted.classifierMs) * 1000,
            preloadUs: plan.boards[i]!.predicted.preloadMs * 1000,
            lineBaud: plan.boards[i]!.profile.uartBaud,
          }),
        }
      : {}),
  };
  const boards: RingBoardProcess[] = [];
  const stopAll = () => void Promise.all(boards.map((b) => stopRingBoard(b)));
  ctx.signal?.addEventListener('abort', stopAll, { once: true });
  const ports = new PortLedger(open);
  try {
    boards.push(
      ...(await Promise.all(
        plan.boards.map((_, i) => startRingBoard(start.program, ringBoardArgs(start, i))),
      )),
    );
    ctx.signal?.throwIfAborted();
    const flashMs = await flashRing(builds, boards, ports, (b, region) => {
      if (ctx.stderr.isTTY !== true)
        say(`  board ${b} (${boards[b]!.path}): ${region} flashed and verified\n`);
    });
    hostHoldsNoPort(ports, n);
    say(
      `  ${n} board(s) flashed in ${(flashMs / 1000).toFixed(1)} s; the host closed every port and reads board 0's console only\n\n`,
    );
    const console = await tell(ctx, given, start, boards, stories, ports);
    const told = await compare(ctx, settings, qm, plan.kv, tokenizer, console, stories);
    hostHoldsNoPort(ports, n); // nothing was opened while the stories ran
    const tokens = told.reduce((a, s) => a + s.tokens, 0);
    const seconds = storiesSeconds(boards[0]!.arrivedAt, stories) ?? Number.NaN;
    const summary = {
      model: label,
      boards: n,
      standalone: true,
      storiesAtOnce: parallel,
      flashSeconds: Math.round(flashMs) / 1000,
      /** serial ports the host opened (the flasher's, one a board) and still had open once flashed */
      hostPorts: { opened: ports.opened.length, openAfterFlashing: ports.openNow() },
      /** every story's tokens (abandoned ones' too), and the seconds from story 1's start to the last end on
       *  board 0's console as the host read it: the ring's rate, as `tinypipe demo` measures the host's */
      tokens,
      seconds: Math.round(seconds * 1000) / 1000,
      tokensPerSecond: Math.round((tokens / seconds) * 10) / 10,
      emulated: given.emulate ? profile.name : null,
      predicted: { tokensPerSecond: plan.predicted.tokensPerSecond },
      stories: told,
      status: statusLines(console),
      identicalToHost: told.some((s) => s.identicalToHost) && told.every((s) => s.identicalToHost !== false),
    };
    if (given.json) printJson(ctx, summary);
    else {
      const first = told.find((s) => !s.abandoned);
      if (told[0]!.abandoned && first) {
        // story 1 was cut short: tell the first whole one too
        ctx.stdout.write('\n');
        say(`\n  story 1 abandoned (${told[0]!.abandoned}); story ${first.story}:\n`);
        ctx.stdout.write(first.text);
      }
      ctx.stdout.write('\n');
      for (const line of summary.status.filter((l) => /board \d+ (stopped|restarted)|not closed/.test(l)))
        say(`  board 0's console: ring: ${line}\n`);
      for (const s of told)
        say(
          `  story ${s.story} (seed ${s.seed}): ${s.abandoned ? `abandoned after ${s.tokens} tokens: ${s.abandoned}` : `${s.tokens} tokens${s.tokensPerSecond !== null ? `, ${s.tokensPerSecond} tok/s on the ring` : ''}, identical to the host's run: ${s.identicalToHost ? 'yes' : 'NO'}`}\n`,
        );
      say(
        `\n${tokens} tokens in ${summary.seconds} s on board 0's console: ${summary.tokensPerSecond} tok/s (${parallel} at once${given.emulate ? `; emulating ${profile.name}, the cost model predicts ${plan.predicted.tokensPerSecond}` : ''})\n` +
          `${summary.stories.filter((s) => !s.abandoned).length} of ${stories} stories told by board 0 with no host link (the host opened ${ports.opened.length} port(s) to flash, ${ports.openNow()} open since)\n` +
          `identical to the unsplit host run: ${summary.identicalToHost ? 'yes' : 'NO'}\n`,
      );
    }
    if (!summary.identicalToHost)
      throw new TinypipeError('REMOTE_ERROR', 'the stories board 0 told differ from the host run');
  } finally {
    ctx.signal?.removeEventListener('abort', stopAll);
    await Promise.all(boards.map((b) => stopRingBoard(b)));
    temp.remove();
  }
}

/** After flashing the host holds no port, and opened none but the flasher's (one a board). */
function hostHoldsNoPort(ports: PortLedger, boards: number): void {
  if (ports.openNow() !== 0 || ports.opened.length !== boards)
    throw new TinypipeError(
      'REMOTE_ERROR',
      `after flashing the host must hold no link to any board: ${ports.openNow()} port(s) open, ${ports.opened.length} opened for ${boards} board(s)`,
    );
}

/**
 * Reads board 0's console until it has told `stories` stories and exits, writing story 1 to stdout as it
 * comes; with `--kill B`, kills board B once story 1 is under way and starts it again (booting its flash).
 */
async function tell(
  ctx: CliContext,
  flags: DemoFlags & StandaloneDemoFlags,
  start: RingStart,
  boards: RingBoardProcess[],
  stories: number,
  ports: PortLedger,
): Promise<string> {
  const board0 = boards[0]!;
  let printed = 0;
  let killed = flags.kill === undefined;
  const deadline = Date.now() + 60_000 + stories * start.plan.boards.length * flags.steps * 200;
  for (;;) {
    ctx.signal?.throwIfAborted();
    const text = board0.console();
    const story1 = storyText(text, 1);
    if (!flags.json && story1.length > printed) {
      ctx.stdout.write(story1.slice(printed));
      printed = story1.length;
    }
    // once story 1 is well past its prompt (or over): pull the cable
    const underWay = story1.length >= flags.prompt.length + 40 || storyEnd(text, 1) !== undefined;
    if (!killed && underWay && flags.kill !== undefined) {
      killed = true;
      const i = flags.kill;
      await stopRingBoard(boards[i]!, 'SIGKILL'); // a pulled cable
      // plugged back in: it powers on and boots its flash (no flasher this time)
      boards[i] = await startRingBoard(start.program, [...ringBoardArgs(start, i), '--boot']);
    }
    if (board0.process.exitCode !== null || board0.process.signalCode !== null) break;
    if (Date.now() > deadline)
      throw new TinypipeError(
        'TIMEOUT',
        `board 0 did not finish its ${stories} stories; its console:\n${text}`,
      );
    if (ports.openNow() !== 0) hostHoldsNoPort(ports, boards.length);
    await new Promise((r) => setTimeout(r, 20));
  }
  const code = await board0.exited;
  const text = board0.console();
  if (code !== 0)
    throw new TinypipeError(
      'REMOTE_ERROR',
      `board 0 ended with status ${code}: ${board0.log().trim()}\n${text}`,
    );
  return text;
}

/** Each story board 0 told, against the host's run of the same prompt and seed (story n: seed + n − 1). */
async function compare(
  ctx: CliContext,
  settings: ReturnType<typeof ringSettings>,
  qm: ReturnType<typeof quantize>,
  kv: KvFormat,
  tokenizer: Awaited<ReturnType<typeof loadTokenizer>>,
  text: string,
  stories: number,
): Promise<RingStory[]> {
  const out: RingStory[] = [];
  for (let n = 1; n <= stories; n++) {
    const end = storyEnd(text, n);
    if (!storyHeader(text, n) || !end)
      throw new TinypipeError('REMOTE_ERROR', `board 0 never finished story ${n}:\n${text}`);
    const seed = settings.seed + n - 1;
    const told = storyText(text, n);
    let identical: boolean | null = null;
    if (!end.abandoned) {
      const host = await generateText({
        engine: QuantEngine.fromModel(qm, { kv }), // the boards' numerics: their weights and KV cache format
        tokenizer,
        sampler: new Sampler({
          vocabSize: qm.config.vocabSize,
          temperature: settings.temperature,
          topp: settings.topp,
          seed,
          exp: 'spec',
        }),
        prompt: settings.prompt,
        steps: settings.steps,
        signal: ctx.signal,
      });
      // line breaks aside: several stories at once go out line by line, and a very long line in pieces
      identical =
        host.text.replace(/\n/g, '') === told.replace(/\n/g, '') && host.tokens.length === end.tokens;
    }
    out.push({
      story: n,
      seed,
      text: told,
      tokens: end.tokens,
      tokensPerSecond: end.tokensPerSecond ?? null,
      abandoned: end.abandoned ?? null,
      identicalToHost: identical,
    });
  }
  return out;
}
