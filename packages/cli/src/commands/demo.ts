import { fingerprintHex } from '@tinypipe/core';
import { buildPosixBoard, type PtyBoard } from '@tinypipe/firmware';
import { TraceRecorder } from '@tinypipe/pipeline';
import { TinypipeError } from '@tinypipe/protocol';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { enumFlag, floatFlag, intFlag, uintFlag } from '../io/options.js';
import { createProgress } from '../io/progress.js';
import { makeTempDir } from '../io/temp.js';
import { flashBoards, startBoards } from './demo/boards.js';
import { connectPipeline } from './demo/connect.js';
import { checkDemoFlags, type DemoFlags } from './demo/flags.js';
import { BoardHashes } from './demo/hashes.js';
import { prepareDemo } from './demo/prepare.js';
import { demoSummary, printDemoReport, writeDemoTrace } from './demo/report.js';
import { matchesHost, streamStories } from './demo/stories.js';
import { addStandaloneOptions, runStandaloneDemo, type StandaloneDemoFlags } from './demo-standalone.js';

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
    .option(
      '--embedding <where>',
      "board: board 0 holds the embedding table; host: the host keeps it and sends board 0 each token's row (default: the planner's choice)",
      enumFlag('--embedding', ['board', 'host']),
    )
    .option(
      '--quant <kind>',
      'weight quantization of the images (and of the host run they are checked against)',
      enumFlag('--quant', ['q4', 'q8']),
      'q8',
    )
    .option(
      '--kv <format>',
      'the KV cache’s format (docs/numerics.md §6b): fp32 (default), fp16, int8, or auto (the most exact that fits); the host run uses the same',
      enumFlag('--kv', ['fp32', 'fp16', 'int8', 'auto']),
    )
    .option(
      '--seq-len <n>',
      'context to provision and plan for (default: the model’s)',
      uintFlag('--seq-len'),
    )
    .option(
      '--objective <o>',
      'what the plan optimizes, as in tinypipe plan (default: throughput with several streams, latency with one)',
      enumFlag('--objective', ['latency', 'throughput']),
    )
    .option(
      '--split-classifier',
      'let the planner split the classifier by rows over the last boards, as tinypipe plan does (star only)',
    )
    .option(
      '--hashes',
      'ask every board for its layer hashes and check them, position by position, against the unsplit host run',
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
    .action((given: DemoFlags & StandaloneDemoFlags) =>
      given.standalone ? runStandaloneDemo(ctx, given) : runDemo(ctx, given),
    );
  addStandaloneOptions(program.commands.find((c) => c.name() === 'demo')!);
}

/** The demo's steps in order: prepare, start and flash the boards, connect, stream, check, report. */
async function runDemo(ctx: CliContext, given: DemoFlags): Promise<void> {
  const flags = checkDemoFlags(given);
  const say = (s: string) => (flags.json ? undefined : ctx.stderr.write(s));
  const model = await prepareDemo(ctx, flags, say);

  const program = buildPosixBoard().board;
  const progress = createProgress(ctx, 'demo', { json: flags.json });
  const temp = makeTempDir('demo');
  const boards: PtyBoard[] = [];
  // Ctrl-C: stopping the boards ends whatever waits on them (flashing, the handshake, the stream) at once
  const stopBoards = () => void Promise.all(boards.map((b) => b.kill()));
  ctx.signal?.addEventListener('abort', stopBoards, { once: true });
  try {
    ctx.signal?.throwIfAborted();
    progress.phase(`starting ${flags.boards} simulated board(s)`);
    const startAt = performance.now();
    await startBoards(flags, model, program, temp.path, boards);
    ctx.signal?.throwIfAborted(); // a board spawned after the abort was not stopped by it
    progress.phase(`flashing ${flags.boards} board(s)`);
    const flashAt = performance.now();
    const flashMs = await flashBoards(ctx, flags, model, boards, progress, say);
    const recorder = flags.trace ? new TraceRecorder() : undefined;
    const hashes = flags.hashes ? new BoardHashes() : undefined;
    const connectAt = performance.now();
    const pipeline = await connectPipeline(flags, model, boards, recorder, hashes);
    const connectMs = performance.now() - connectAt;
    say(
      `  ${flags.boards} board(s) flashed in ${(flashMs / 1000).toFixed(1)} s, booted, handshake done (model ${fingerprintHex(model.qm.fingerprint).slice(0, 12)}…)\n\n`,
    );

    const { stories, seconds } = await streamStories(ctx, flags, model, pipeline);
    const own = await pipeline.boardStats(); // every board's own account, middle boards of a chain too
    if (recorder && flags.trace) {
      const tokens = stories.reduce((a, st) => a + st.tokens.length, 0);
      await writeDemoTrace(
        ctx,
        { ...flags, trace: flags.trace },
        model,
        recorder,
        own,
        tokens / seconds,
        say,
      );
    }
    if (!flags.json) ctx.stdout.write('\n');

    progress.phase(
      `checking ${flags.streams} stor${flags.streams === 1 ? 'y' : 'ies'} against the unsplit host run`,
    );
    const checkAt = performance.now();
    const host = await matchesHost(ctx, flags, model, stories);
    const checkMs = performance.now() - checkAt;
    const hashesIdentical = hashes?.matches(
      host.map((h) => h.hashes ?? new Map()),
      model.config.nLayers,
    );
    const seen = pipeline.stats(); // the host's ends of its links
    const ms = {
      ...model.ms,
      start: flashAt - startAt,
      flash: flashMs,
      connect: connectMs,
      run: seconds * 1000,
      hostCheck: checkMs,
    };
    const summary = demoSummary(flags, model, {
      stories,
      seconds,
      identical: host.map((h) => h.identical),
      hashesIdentical,
      seen,
      own,
      ms,
    });
    await pipeline.close();
    if (flags.json) printJson(ctx, summary);
    else printDemoReport(flags, model, summary, say);
    if (!summary.identicalToHost)
      throw new TinypipeError('REMOTE_ERROR', 'the pipeline’s tokens differ from the host run');
    if (summary.layerHashesIdenticalToHost === false)
      throw new TinypipeError('REMOTE_ERROR', 'the boards’ layer hashes differ from the host run’s');
  } finally {
    progress.stop();
    ctx.signal?.removeEventListener('abort', stopBoards);
    await Promise.all(boards.map((b) => b.kill()));
    temp.remove();
  }
}
