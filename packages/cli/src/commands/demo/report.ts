/** Step 5 of the demo: the trace file, the summary (`--json`) and the report on stderr. */
import { resolve } from 'node:path';
import { writeFileAtomic } from '@tinypipe/core/node';
import { describeHolding, figuresLine } from '@tinypipe/partitioner';
import type { BoardStats, Pipeline, TraceRecorder } from '@tinypipe/pipeline';
import type { CliContext } from '../../io/context.js';
import { renderTraceSvg } from '../../pictures/trace-svg.js';
import type { DemoRun } from './flags.js';
import type { DemoModel } from './prepare.js';
import type { Story } from './stories.js';

const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The demo's steps, in order, as its summary times them. */
export const DEMO_PHASES = [
  'load',
  'quantize',
  'build',
  'start',
  'flash',
  'connect',
  'run',
  'hostCheck',
] as const;
/** One of {@link DEMO_PHASES}. */
export type DemoPhase = (typeof DEMO_PHASES)[number];

/**
 * Writes `--trace`: a Chrome trace (*.json) or its timeline as a picture (*.svg), per board its compute
 * (labelled with what it holds), per stream each hop; says where it went.
 */
export async function writeDemoTrace(
  ctx: CliContext,
  flags: DemoRun & { trace: string },
  model: DemoModel,
  recorder: TraceRecorder,
  own: readonly BoardStats[],
  tokensPerSecond: number,
  say: (s: string) => void,
): Promise<void> {
  const { plan, profile } = model;
  const trace = recorder.trace(
    own.map((b) => ({ ...b, label: describeHolding(plan.boards[b.board]!, model.config.vocabSize) })),
    {
      model: model.label,
      topology: flags.topology,
      boards: String(flags.boards),
      streams: String(flags.streams),
      tokensPerSecond: tokensPerSecond.toFixed(1),
      predictedTokensPerSecond: `${plan.predicted.tokensPerSecond} tok/s (cost model${flags.emulate ? `; boards paced as ${profile.name}` : `: real ${profile.name} boards, a projection`})`,
    },
  );
  const svg = flags.trace.endsWith('.svg');
  await writeFileAtomic(
    resolve(ctx.cwd, flags.trace),
    new TextEncoder().encode(svg ? renderTraceSvg(trace) : JSON.stringify(trace)),
  );
  say(`  trace written to ${resolve(ctx.cwd, flags.trace)}${svg ? '' : ' (open it in ui.perfetto.dev)'}\n`);
}

/** What the demo measured, checked and predicted: the `--json` document. */
export type DemoSummary = ReturnType<typeof demoSummary>;

/**
 * The summary of a run: the stories' tokens and rate, whether every story is the host's (`identical`), the
 * retransmissions on both ends of every link (`seen`: the host's ends; `own`: every board's own account),
 * per board its compute and traffic, and the cost model's prediction with measured ÷ predicted.
 */
export function demoSummary(
  flags: DemoRun,
  model: DemoModel,
  run: {
    stories: readonly Story[];
    seconds: number;
    identical: readonly boolean[];
    /** With `--hashes`: whether every board's layer hashes are the host run's. */
    hashesIdentical: boolean | undefined;
    seen: ReturnType<Pipeline['stats']>;
    own: readonly BoardStats[];
    /** What each step took, ms. */
    ms: Readonly<Record<DemoPhase, number>>;
  },
) {
  const { plan } = model;
  const { seconds, own } = run;
  const total = run.stories.reduce((a, s) => a + s.tokens.length, 0);
  return {
    model: model.label,
    boards: flags.boards,
    streams: flags.streams,
    tokens: total,
    seconds: round(seconds, 3),
    tokensPerSecond: round(total / seconds, 1),
    identicalToHost: run.identical.every(Boolean),
    /** `--hashes`: every board's layer hashes at every position are the host run's (null: not asked) */
    layerHashesIdenticalToHost: run.hashesIdentical ?? null,
    quant: model.qm.kind,
    kv: plan.kv,
    seqLen: model.config.seqLen,
    embedding: plan.embedding,
    /** seconds per step: checkpoint load/synthesis, quantization, plan + images, board start, flash, boot + handshake, the stories, the host check */
    phaseSeconds: Object.fromEntries(DEMO_PHASES.map((p) => [p, round(run.ms[p] / 1000, 2)])) as Record<
      DemoPhase,
      number
    >,
    /** DATA frames sent again, by the host and by the boards */
    retransmits: run.seen.reduce((a, s) => a + s.retransmits, 0) + own.reduce((a, b) => a + b.retransmits, 0),
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
    emulated: flags.emulate ? model.profile.name : null,
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
}

/** The report for people: per board its account, then the rate, the host check and the cost model's view. */
export function printDemoReport(
  flags: DemoRun,
  model: DemoModel,
  summary: DemoSummary,
  say: (s: string) => void,
): void {
  const { plan, profile } = model;
  for (const b of summary.perBoard)
    say(
      `  board ${b.board} (${describeHolding(plan.boards[b.board]!, model.config.vocabSize)}): ${b.computeMsPerPosition} ms compute per position, ${b.bytesSent + b.bytesReceived} link bytes, ${b.retransmits} retransmits${b.droppedFrames ? `, ${b.droppedFrames} damaged frames dropped` : ''}\n`,
    );
  say(
    `\n${summary.tokens} tokens in ${summary.seconds} s: ${summary.tokensPerSecond} tok/s on ${flags.boards} simulated board(s) (${flags.topology}), ${flags.streams} stream(s)\n` +
      `identical to the unsplit host run: ${summary.identicalToHost ? 'yes' : 'NO'} (both ${summary.quant}, ${summary.kv} KV cache)\n` +
      (summary.layerHashesIdenticalToHost === null
        ? ''
        : `every board's layer hashes at every position equal the host run's: ${summary.layerHashesIdenticalToHost ? 'yes' : 'NO'}\n`) +
      `time: ${DEMO_PHASES.map((p) => `${p} ${summary.phaseSeconds[p]} s`).join(', ')}\n` +
      (flags.emulate
        ? `emulating ${profile.name}: the cost model predicts ${plan.predicted.tokensPerSecond} tok/s; measured ÷ predicted = ${summary.measuredOverPredicted}\n`
        : `on real ${profile.name} boards the cost model predicts ${plan.predicted.tokensPerSecond} tok/s (a projection, not a measurement)\n`) +
      `  ${profile.name}'s figures: ${figuresLine(profile, plan.boards[0]!.predicted)}\n` +
      // the model's rate is k / (a token's round) below the busiest board's own rate: boards wait
      (flags.boards > 1 && plan.predicted.tokensPerSecond < (0.99 * 1000) / plan.predicted.bottleneckMs
        ? `(the cost model has the boards waiting for each token's round: --streams ${flags.streams + 1} would keep them busy)\n`
        : ''),
  );
}
