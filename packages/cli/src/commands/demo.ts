import { join, resolve } from 'node:path';
import {
  fingerprintHex,
  generateText,
  Pipeline,
  QuantEngine,
  quantize,
  Sampler,
  TinypipeError,
  TraceRecorder,
} from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import {
  buildPosixBoard,
  type PtyBoard,
  type PtyBoardOptions,
  spawnPtyBoard,
  spawnPtyChain,
} from '@tinypipe/firmware';
import { boardImage, flashPlan } from '@tinypipe/flasher';
import { buildPlan, describeHolding, figuresLine, planModel } from '@tinypipe/partitioner';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { enumFlag, floatFlag, intFlag, uintFlag } from '../io/options.js';
import { resolveProfile } from '../io/profiles.js';
import { createProgress } from '../io/progress.js';
import { makeTempDir } from '../io/temp.js';
import { renderTraceSvg } from '../pictures/trace-svg.js';

interface DemoFlags {
  model?: string;
  tokenizer?: string;
  boards: number;
  streams?: number;
  prompt: string;
  steps: number;
  seed?: number;
  ber: number;
  topology: 'star' | 'chain';
  baud?: number;
  emulate?: string;
  profile?: string;
  json?: boolean;
  trace?: string;
}

/**
 * `npm run demo`: the whole mission on simulated ESP32-S3 boards — plan the model over N boards, build
 * their images, start N virtual boards on PTYs, flash them in parallel over the ESP bootloader protocol,
 * boot them, and stream stories through the pipeline; then check the tokens against the unsplit host run.
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('run the model split over simulated ESP32-S3 boards: plan, build, flash, boot, stream')
    .option('--model <path>', 'llama2.c checkpoint or synth:15M (default: bundled stories260K)')
    .option('--tokenizer <path>', 'tokenizer.bin (default: the bundled one matching the model vocabulary)')
    .option('--boards <n>', 'simulated boards', uintFlag('--boards'), 2)
    .option(
      '--streams <k>',
      'stories generated at once (sequences in flight; default: one per board, so every board has work)',
      uintFlag('--streams'),
    )
    .option('--prompt <text>', 'how the stories start', 'Once upon a time')
    .option('--steps <n>', 'positions per story', intFlag('--steps'), 200)
    .option('--seed <n>', 'sampler seed of the first story (default: the clock)', uintFlag('--seed'))
    .option('--ber <p>', 'bit error rate injected by the boards on their lines', floatFlag('--ber'), 0)
    .option(
      '--topology <t>',
      'chain: board to board over their UARTs, the host at both ends; star: every board on its own USB port, the host relays',
      enumFlag('--topology', ['star', 'chain']),
      'chain',
    )
    .option('--baud <rate>', "the boards' UART rate (default: the profile's, 2,000,000)", uintFlag('--baud'))
    .option(
      '--emulate <profile>',
      'pace each simulated board to this profile (a built-in name, e.g. esp32s3-n16r8, or a *.json — custom or measured by tinypipe calibrate): its predicted compute per message and its UART rate',
    )
    .option(
      '--profile <profile>',
      'the board profile the plan is made for, without pacing (a built-in name or a *.json; default: esp32s3-n16r8, or --emulate’s)',
    )
    .option('--json', 'print a JSON summary instead of the stories')
    .option(
      '--trace <file>',
      'write a Chrome trace (*.json: open it in ui.perfetto.dev or chrome://tracing) or its timeline as a picture (*.svg): per board its compute, per stream each hop',
    )
    .action(async (given: DemoFlags) => {
      const flags = { ...given, streams: given.streams ?? given.boards };
      if (flags.boards < 1 || flags.streams < 1)
        throw usageError('--boards and --streams must be at least 1');
      if (flags.ber < 0 || flags.ber >= 1) throw usageError('--ber must be a probability in [0, 1)');
      const say = (s: string) => (flags.json ? undefined : ctx.stderr.write(s));
      const seed = flags.seed ?? Math.floor(Date.now() / 1000);
      const { checkpoint, label } = await loadModel(ctx, flags.model);
      const tokenizer = await loadTokenizer(ctx, flags.tokenizer, checkpoint.config.vocabSize);
      const c = checkpoint.config;
      if (flags.boards > c.nLayers)
        throw usageError(`--boards ${flags.boards}: the model has only ${c.nLayers} layers`);
      const qm = quantize(checkpoint, { weights: 'q8' });

      // 1. plan and build
      if (flags.profile && flags.emulate && flags.profile !== flags.emulate)
        throw usageError('--emulate plans for the board it emulates; give --profile or --emulate, not both');
      const profile = await resolveProfile(ctx, flags.emulate ?? flags.profile ?? 'esp32s3-n16r8');
      const plan = planModel({
        model: { name: label, source: label, config: c, kind: 'q8', groupSize: 32 },
        boards: Array.from({ length: flags.boards }, () =>
          flags.baud ? { ...profile, uartBaud: flags.baud } : profile,
        ),
        objective: flags.streams > 1 ? 'throughput' : 'latency',
        streams: flags.streams,
        splitClassifier: false,
      });
      const builds = buildPlan(plan, qm);
      say(
        `tinypipe demo: ${label} (${c.nLayers} layers, dim ${c.dim}, vocab ${c.vocabSize}) q8 on ${flags.boards} simulated ESP32-S3 board(s)\n` +
          plan.boards
            .map(
              (b) =>
                `  board ${b.index}: ${describeHolding(b, c.vocabSize)}, image ${(b.imageBytes / 1e6).toFixed(2)} MB`,
            )
            .join('\n') +
          '\n',
      );

      // 2. boards on PTYs, flashed in parallel, booted
      const program = buildPosixBoard().board;
      const progress = createProgress(ctx, 'demo', { json: flags.json });
      const temp = makeTempDir('demo');
      const dir = temp.path;
      const boards: PtyBoard[] = [];
      // Ctrl-C: stopping the boards ends whatever waits on them (flashing, the handshake, the stream) at once
      const stopBoards = () => void Promise.all(boards.map((b) => b.kill()));
      ctx.signal?.addEventListener('abort', stopBoards, { once: true });
      try {
        ctx.signal?.throwIfAborted();
        progress.phase(`starting ${flags.boards} simulated board(s)`);
        const options = (i: number): PtyBoardOptions => ({
          program,
          flash: join(dir, `board-${i}.flash`),
          flashSize: plan.boards[i]!.profile.flashBytes,
          board: i,
          mac: `7c:df:a1:00:00:${i.toString(16).padStart(2, '0')}`,
          ...(flags.ber > 0 ? { ber: flags.ber, seed: seed + i } : {}),
          streams: Math.max(4, flags.streams),
          ...(flags.emulate
            ? {
                stageUs: (plan.boards[i]!.predicted.layersMs + plan.boards[i]!.predicted.classifierMs) * 1000,
                preloadUs: plan.boards[i]!.predicted.preloadMs * 1000,
                lineBaud: plan.boards[i]!.profile.uartBaud,
              }
            : {}),
        });
        if (flags.topology === 'chain')
          boards.push(...(await spawnPtyChain(Array(flags.boards).fill(undefined), options)));
        else for (let i = 0; i < flags.boards; i++) boards.push(await spawnPtyBoard(undefined, options(i)));
        ctx.signal?.throwIfAborted(); // a board spawned after the abort was not stopped by it
        progress.phase(`flashing ${flags.boards} board(s)`);
        const written = new Map<string, [number, number]>(); // board and region → bytes done, of
        const flashStart = performance.now();
        const results = await flashPlan(
          await Promise.all(
            builds.map(async (b, i) => ({
              image: boardImage(b),
              port: boards[i]!.path,
              transport: await openSerialPort(boards[i]!.path),
            })),
          ),
          {
            onEvent: (e) => {
              if (e.kind === 'progress') {
                written.set(`${e.board} ${e.region}`, [e.done, e.total]);
                const all = [...written.values()];
                const sum = (k: 0 | 1) => all.reduce((a, d) => a + d[k], 0);
                progress.update(
                  sum(0),
                  sum(1),
                  `writing ${written.size} region(s) of ${flags.boards} board(s)`,
                );
              } else if (e.kind === 'verified' && !flags.json && ctx.stderr.isTTY !== true)
                say(`  board ${e.board} (${e.port}): ${e.region} flashed and verified\n`);
            },
          },
        );
        const failed = results.find((r) => !r.ok);
        if (failed)
          throw failed.error ?? new TinypipeError('FLASH_FAILED', `board ${failed.board} failed to flash`);
        progress.stop();
        const flashMs = performance.now() - flashStart;
        // star: a link to every board; chain: to the first board, and from the last board's second UART
        const last = flags.boards - 1;
        const ends =
          flags.topology === 'chain'
            ? [
                { board: 0, path: boards[0]!.path },
                { board: last, path: boards[last]!.outPath! },
              ]
            : boards.map((b, i) => ({ board: i, path: b.path }));
        const links = await Promise.all(
          ends.map(async ({ board, path }) =>
            ReliableLink.connect(await openSerialPort(path), {
              expect: { fingerprint: qm.fingerprint, layers: plan.boards[board]!.layers as [number, number] },
            }),
          ),
        );
        const recorder = flags.trace ? new TraceRecorder() : undefined;
        const pipeline = Pipeline.connect(
          links,
          {
            config: c,
            fingerprint: qm.fingerprint,
            stages: plan.boards.map((b) => ({ layers: b.layers, embedding: b.embedding, vocab: b.vocab })),
          },
          { topology: flags.topology, ...(recorder ? { onRequest: recorder.onRequest } : {}) },
        );
        say(
          `  ${flags.boards} board(s) flashed in ${(flashMs / 1000).toFixed(1)} s, booted, handshake done (model ${fingerprintHex(qm.fingerprint).slice(0, 12)}…)\n\n`,
        );

        // 3. stream the stories (the first one to the terminal as it comes)
        const started = performance.now();
        const stories = await Promise.all(
          Array.from({ length: flags.streams }, async (_, k) => {
            const tokens: number[] = [];
            let text = '';
            // the last board samples (llama2.c's sampler in C); the host only relays
            for await (const t of pipeline.generate({
              tokenizer,
              sampling: { temperature: 0.8, topp: 0.9, seed: seed + k },
              sampler: new Sampler({
                vocabSize: c.vocabSize,
                temperature: 0.8,
                topp: 0.9,
                seed: seed + k,
                exp: 'spec',
              }),
              prompt: flags.prompt,
              steps: flags.steps,
              signal: ctx.signal,
            })) {
              tokens.push(t.token);
              text += t.piece;
              if (k === 0 && !flags.json) ctx.stdout.write(t.piece);
            }
            return { seed: seed + k, tokens, text };
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const own = await pipeline.boardStats(); // every board's own account, middle boards of a chain too
        if (recorder && flags.trace) {
          const holding = (b: (typeof own)[number]) => describeHolding(plan.boards[b.board]!, c.vocabSize);
          const trace = recorder.trace(
            own.map((b) => ({ ...b, label: holding(b) })),
            {
              model: label,
              topology: flags.topology,
              boards: String(flags.boards),
              streams: String(flags.streams),
              tokensPerSecond: (stories.reduce((a, st) => a + st.tokens.length, 0) / seconds).toFixed(1),
              predictedTokensPerSecond: `${plan.predicted.tokensPerSecond} tok/s (cost model${flags.emulate ? `; boards paced as ${profile.name}` : `: real ${profile.name} boards, a projection`})`,
            },
          );
          const svg = flags.trace.endsWith('.svg');
          await writeFileAtomic(
            resolve(ctx.cwd, flags.trace),
            new TextEncoder().encode(svg ? renderTraceSvg(trace) : JSON.stringify(trace)),
          );
          say(
            `  trace written to ${resolve(ctx.cwd, flags.trace)}${svg ? '' : ' (open it in ui.perfetto.dev)'}\n`,
          );
        }
        const total = stories.reduce((a, s) => a + s.tokens.length, 0);
        if (!flags.json) ctx.stdout.write('\n');

        // 4. the same stories on the host, unsplit: identical?
        progress.phase(
          `checking ${flags.streams} stor${flags.streams === 1 ? 'y' : 'ies'} against the unsplit host run`,
        );
        const identical = await Promise.all(
          stories.map(async (s) => {
            const host = await generateText({
              engine: QuantEngine.fromModel(qm),
              tokenizer,
              sampler: new Sampler({
                vocabSize: c.vocabSize,
                temperature: 0.8,
                topp: 0.9,
                seed: s.seed,
                exp: 'spec',
              }),
              prompt: flags.prompt,
              steps: flags.steps,
              signal: ctx.signal,
            });
            return host.tokens.length === s.tokens.length && host.tokens.every((t, i) => t === s.tokens[i]);
          }),
        );
        const seen = pipeline.stats(); // the host's ends of its links
        const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;
        const summary = {
          model: label,
          boards: flags.boards,
          streams: flags.streams,
          tokens: total,
          seconds: round(seconds, 3),
          tokensPerSecond: round(total / seconds, 1),
          identicalToHost: identical.every(Boolean),
          /** DATA frames sent again, by the host and by the boards */
          retransmits:
            seen.reduce((a, s) => a + s.retransmits, 0) + own.reduce((a, b) => a + b.retransmits, 0),
          topology: flags.topology,
          perBoard: own.map((b) => ({
            board: b.board,
            layers: b.layers,
            positions: b.forwards,
            /** compute per position, measured on the board (paced to the profile with --emulate) */
            computeMsPerPosition: round(b.msPerForward, 3),
            bytesSent: b.bytesOut,
            bytesReceived: b.bytesIn,
            retransmits: b.retransmits,
            droppedFrames: b.dropped,
          })),
          emulated: flags.emulate ? profile.name : null,
          predicted: {
            tokensPerSecond: plan.predicted.tokensPerSecond,
            label: plan.predicted.label,
            /** where the profile's figures come from, and the kernel the projection assumes */
            figures: plan.predicted.figures,
            kernel: plan.boards[0]!.predicted.kernel,
            macsPerCycle: plan.boards[0]!.predicted.macsPerCycle,
          },
          /** measured ÷ predicted: how well the cost model describes the (emulated) boards */
          measuredOverPredicted: round(total / seconds / plan.predicted.tokensPerSecond, 3),
        };
        await pipeline.close();
        if (flags.json) printJson(ctx, summary);
        else {
          for (const b of summary.perBoard)
            say(
              `  board ${b.board} (${describeHolding(plan.boards[b.board]!, c.vocabSize)}): ${b.computeMsPerPosition} ms compute per position, ${b.bytesSent + b.bytesReceived} link bytes, ${b.retransmits} retransmits${b.droppedFrames ? `, ${b.droppedFrames} damaged frames dropped` : ''}\n`,
            );
          say(
            `\n${total} tokens in ${summary.seconds} s: ${summary.tokensPerSecond} tok/s on ${flags.boards} simulated board(s) (${flags.topology}), ${flags.streams} stream(s)\n` +
              `identical to the unsplit host run: ${summary.identicalToHost ? 'yes' : 'NO'}\n` +
              (flags.emulate
                ? `emulating ${profile.name}: the cost model predicts ${plan.predicted.tokensPerSecond} tok/s; measured ÷ predicted = ${summary.measuredOverPredicted}\n`
                : `on real ${profile.name} boards the cost model predicts ${plan.predicted.tokensPerSecond} tok/s (a projection, not a measurement)\n`) +
              `  ${profile.name}'s figures: ${figuresLine(profile, plan.boards[0]!.predicted)}\n` +
              // the model's rate is k / (a token's round) below the busiest board's own rate: boards wait
              (flags.boards > 1 &&
              plan.predicted.tokensPerSecond < (0.99 * 1000) / plan.predicted.bottleneckMs
                ? `(the cost model has the boards waiting for each token's round: --streams ${flags.streams + 1} would keep them busy)\n`
                : ''),
          );
        }
        if (!summary.identicalToHost)
          throw new TinypipeError('REMOTE_ERROR', 'the pipeline’s tokens differ from the host run');
      } finally {
        progress.stop();
        ctx.signal?.removeEventListener('abort', stopBoards);
        await Promise.all(boards.map((b) => b.kill()));
        temp.remove();
      }
    });
}
