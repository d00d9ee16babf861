/**
 * The split solver: contiguous layer ranges over an ordered list of (possibly different) boards, the
 * embedding on the first (or on the host, `embedding: 'host'`: no board stores it, and the host sends
 * board 0 the embedded row — an ACTIVATION of dim × 4 bytes — instead of a TOKEN), the classifier on the last `slices` boards (vocab rows split evenly, as
 * core's `splitSelections` does). Exact: a dynamic program over boards × remaining layers for each
 * number of classifier slices; deterministic: among equal costs it takes fewer classifier slices, then
 * the lexicographically smallest split. `evaluateSplit` scores any one split the same way (the tests
 * compare the solver with a brute force built on it).
 *
 * The last board samples (llama2.c's sampler in C) and returns one TOKEN when it holds the whole
 * classifier; split classifier slices each send their logits to the host instead — at 2 Mbaud that is
 * 0.64 s for stories15M's 32,000 rows, so splitting pays only where flash, not the link, is the limit.
 *
 * Objectives (integer microseconds):
 *   latency     one stream: token in + Σ stage compute + hops + the slowest classifier slice and its output,
 *               less what each board preloads while it waits (the reported latency is then never below
 *               the busiest board's period: a board preloads only while it waits)
 *   throughput  k streams in flight: the slowest board's period, max(compute, its outgoing link), or the
 *               line into board 0 if that is slower (one message a token: a TOKEN, or the host's row)
 */
import { splitSelections } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import {
  type CostOptions,
  classifierHopMicros,
  classifierWork,
  type Footprint,
  footprint,
  hopMicros,
  layerWork,
  type ModelSpec,
  preloadMicros,
  type StageSelection,
  workMicros,
} from '../cost/cost.js';
import type { EmbeddingPlacement, KvFormat } from '../cost/kv.js';
import type { BoardProfile, KernelKind } from '../profiles/profiles.js';

export interface Problem {
  model: ModelSpec;
  boards: readonly BoardProfile[];
  objective: 'latency' | 'throughput';
  /** Streams in flight (KV caches per board; the throughput objective's k). Default 1. */
  streams?: number;
  /** Every board's compute with this kernel's figure. Default: each board's own (`profile.kernel`). */
  kernel?: KernelKind;
  /** Allow the classifier to be split over several boards. Default true. */
  splitClassifier?: boolean;
  /** The KV cache's format: its bytes in PSRAM and on the memory bus. Default 'fp32'. */
  kv?: KvFormat;
  /** Where the embedding table lives: board 0 (default) or the host (then board 0 holds ≥ 1 layer). */
  embedding?: EmbeddingPlacement;
}

export interface StageEstimate {
  selection: StageSelection;
  footprint: Footprint;
  layersUs: number;
  classifierUs: number;
  /** Sending its output: the activation to the next board and/or its logits to the host. */
  linkOutUs: number;
  /** Of layersUs + classifierUs, what the board streams into its cache before the input arrives. */
  preloadUs: number;
  /** Time per token the board is busy: max(compute, outgoing link). */
  periodUs: number;
}

export interface Solution {
  split: number[];
  slices: number;
  stages: StageEstimate[];
  latencyUs: number;
  /** The slowest board's period. */
  bottleneckUs: number;
  /** What the objective minimised: the bottleneck, or the token's path (latency before the bottleneck bound). */
  costUs: number;
  /** Predicted tokens per second with `streams` in flight (cost model output). */
  tokensPerSecond: number;
}

/** Everything about board i holding n layers, given the split's shape (memoised per problem). */
class Estimator {
  readonly #memo = new Map<string, StageEstimate>();
  /** One layer's weights: what a board with layers reads first (the same for every board and split). */
  readonly #firstLayer: { bytes: number; macs: number };
  constructor(readonly p: Problem) {
    this.#firstLayer = layerWork(p.model, 1, false, p.kv);
  }

  /** Whether board i holds the embedding table (board 0, unless the host embeds). */
  embeds(i: number): boolean {
    return i === 0 && this.p.embedding !== 'host';
  }

  /** The message into board 0 per token: a TOKEN, or the embedded row as an ACTIVATION from the host. */
  inHopUs(): number {
    const host = this.p.embedding === 'host';
    return hopMicros(host ? 5 + 4 * this.p.model.config.dim : 9, this.p.boards[0]!);
  }

  stage(i: number, from: number, n: number, slices: number): StageEstimate {
    const { model, boards } = this.p;
    const B = boards.length;
    const c = model.config;
    const slice = i - (B - slices);
    const vocab: [number, number] | undefined =
      slice < 0
        ? undefined
        : [Math.floor((slice * c.vocabSize) / slices), Math.floor(((slice + 1) * c.vocabSize) / slices)];
    const key = `${i}/${n}/${vocab?.join('-') ?? ''}`;
    const hit = this.#memo.get(key);
    if (hit) return { ...hit, selection: { ...hit.selection, layers: [from, from + n] } };
    const profile = boards[i]!;
    const options: CostOptions = {
      streams: this.p.streams ?? 1,
      quant: model.kind,
      ...(this.p.kernel ? { kernel: this.p.kernel } : {}),
      ...(this.p.kv ? { kv: this.p.kv } : {}),
    };
    const selection: StageSelection = { layers: [from, from + n], embedding: this.embeds(i), vocab };
    const fp = footprint(model, selection, profile, options);
    const layers = layerWork(model, n, this.embeds(i), this.p.kv);
    const classifier = vocab ? classifierWork(model, vocab) : undefined;
    const layersUs = workMicros(layers, profile, options);
    const classifierUs = classifier ? workMicros(classifier, profile, options) : 0;
    // the first weights a forward reads: its first layer's, or the classifier's on a classifier-only board
    const preloadUs = preloadMicros(n > 0 || !classifier ? this.#firstLayer : classifier, profile, options);
    let linkOutUs = 0;
    if (i < B - 1) linkOutUs += hopMicros(5 + 4 * c.dim, profile);
    // the classifier's output: one TOKEN when the board samples, a split slice's logits otherwise
    if (vocab) linkOutUs += classifierHopMicros(vocab[1] - vocab[0], slices > 1, profile);
    const est: StageEstimate = {
      selection,
      footprint: fp,
      layersUs,
      classifierUs,
      linkOutUs,
      preloadUs,
      periodUs: Math.max(layersUs + classifierUs, linkOutUs),
    };
    this.#memo.set(key, est);
    return est;
  }

  /**
   * Whether board i may hold n layers: it must hold a layer or a classifier slice, and fit; with the
   * embedding on the host, board 0 (which the host's activation goes to) holds a layer.
   */
  allowed(i: number, n: number, slices: number): boolean {
    const holdsSlice = i >= this.p.boards.length - slices && !(i === 0 && this.p.embedding === 'host');
    return (n >= 1 || holdsSlice) && this.stage(i, 0, n, slices).footprint.fits;
  }

  /** The latency terms that do not depend on the split (for a given number of slices). */
  fixedLatencyUs(slices: number): number {
    const B = this.p.boards.length;
    const c = this.p.model.config;
    let us = this.inHopUs(); // the token (or the host's embedded row) in
    for (let i = 0; i < B - 1; i++) us += hopMicros(5 + 4 * c.dim, this.p.boards[i]!);
    if (slices > 1) us += hopMicros(5 + 4 * c.dim, this.p.boards[B - 1]!); // the final activation to the other slices
    let slowest = 0;
    for (let i = B - slices; i < B; i++) {
      const s = this.stage(i, 0, 0, slices);
      const logitsUs = s.linkOutUs - (i < B - 1 ? hopMicros(5 + 4 * c.dim, this.p.boards[i]!) : 0);
      slowest = Math.max(slowest, s.classifierUs + logitsUs);
    }
    return us + slowest;
  }
}

function check(p: Problem): void {
  const L = p.model.config.nLayers;
  if (p.boards.length === 0) throw new TinypipeError('INVALID_ARGUMENT', 'a plan needs at least one board');
  if (p.boards.length > L + 1)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `${p.boards.length} boards for ${L} layers: at most ${L + 1} can be used`,
    );
  const k = p.streams ?? 1;
  if (!Number.isInteger(k) || k < 1)
    throw new TinypipeError('INVALID_ARGUMENT', `streams must be ≥ 1, got ${k}`);
}

/** Scores one split exactly as the solver does; undefined when it is not allowed or does not fit. */
export function evaluateSplit(
  p: Problem,
  split: readonly number[],
  slices: number,
  est = new Estimator(p),
): Solution | undefined {
  check(p);
  const B = p.boards.length;
  if (split.length !== B || slices < 1 || slices > B) return undefined;
  const sels = splitSelections(p.model.config, split, slices);
  const stages: StageEstimate[] = [];
  for (let i = 0; i < B; i++) {
    if (!est.allowed(i, split[i]!, slices)) return undefined;
    stages.push(est.stage(i, sels[i]!.layers[0], split[i]!, slices));
  }
  let pathUs = est.fixedLatencyUs(slices);
  for (const s of stages) pathUs += s.layersUs - s.preloadUs;
  // the line into board 0 carries one message per token too (an activation when the host embeds)
  const bottleneckUs = Math.max(est.inHopUs(), ...stages.map((s) => s.periodUs));
  const k = p.streams ?? 1;
  return {
    split: [...split],
    slices,
    stages,
    // a board preloads only while it waits: one stream cannot go round faster than any board is busy
    latencyUs: Math.max(pathUs, bottleneckUs),
    bottleneckUs,
    costUs: p.objective === 'latency' ? pathUs : bottleneckUs,
    tokensPerSecond: Math.min((k * 1e6) / pathUs, 1e6 / bottleneckUs),
  };
}

/** The best split, or undefined when nothing fits. */
export function solve(p: Problem): Solution | undefined {
  check(p);
  const B = p.boards.length;
  const L = p.model.config.nLayers;
  const est = new Estimator(p);
  const combine = p.objective === 'latency' ? (a: number, b: number) => a + b : Math.max;
  const boardCost = (i: number, n: number, slices: number) => {
    const s = est.stage(i, 0, n, slices);
    return p.objective === 'latency' ? s.layersUs - s.preloadUs : s.periodUs;
  };
  let best: Solution | undefined;
  const maxSlices = p.splitClassifier === false ? 1 : B;
  for (let slices = 1; slices <= maxSlices; slices++) {
    // g[i][r]: the best cost of boards i..B-1 covering the last r layers (Infinity: impossible)
    const g = Array.from({ length: B + 1 }, () => new Array<number>(L + 1).fill(Number.POSITIVE_INFINITY));
    // throughput: the line into board 0 bounds it too (evaluateSplit's bottleneck), so ties break the same
    g[B]![0] = p.objective === 'latency' ? 0 : est.inHopUs();
    for (let i = B - 1; i >= 0; i--) {
      for (let r = 0; r <= L; r++) {
        let v = Number.POSITIVE_INFINITY;
        for (let n = 0; n <= r; n++) {
          const rest = g[i + 1]![r - n]!;
          if (rest === Number.POSITIVE_INFINITY || !est.allowed(i, n, slices)) continue;
          v = Math.min(v, combine(boardCost(i, n, slices), rest));
        }
        g[i]![r] = v;
      }
    }
    if (g[0]![L] === Number.POSITIVE_INFINITY) continue;
    // the lexicographically smallest split reaching the optimum: a board may take the smallest share
    // with which the boards so far plus the best completion still reach it (its suffix need not be
    // optimal on its own — under `max`, a slow first board makes several suffixes equally good)
    const optimum = g[0]![L]!;
    const split: number[] = [];
    for (let i = 0, r = L, prefix = 0; i < B; i++) {
      for (let n = 0; n <= r; n++) {
        const rest = g[i + 1]![r - n]!;
        if (rest === Number.POSITIVE_INFINITY || !est.allowed(i, n, slices)) continue;
        const withThis = combine(prefix, boardCost(i, n, slices));
        if (combine(withThis, rest) === optimum) {
          split.push(n);
          r -= n;
          prefix = withThis;
          break;
        }
      }
    }
    const s = evaluateSplit(p, split, slices, est)!;
    if (!best || s.costUs < best.costUs) best = s;
  }
  return best;
}
