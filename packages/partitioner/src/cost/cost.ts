/**
 * The cost model: what one board's share of the model needs (flash, PSRAM) and how long it takes per
 * token. Every input is explicit — board profile figures, model shape, kernel, streams — so the
 * prediction can be calibrated against the simulator (issue 9) and real boards.
 *
 * Per token, a stage streams its weights from flash (the token-embedding table: one row) and does its
 * multiply-accumulates; the cache MMU prefetches while the cores compute, so a stage's time is
 * max(flash, compute) — the stated overlap assumption. Attention is counted at the average position
 * (seq_len / 2). A hop costs its frame bytes at 10 bits per byte plus a fixed per-message latency.
 * While a board waits for its next input it preloads the first `preloadBytes` of its weights into the data
 * cache (`preloadMicros`), so that part of a forward's flash time overlaps the hops instead of adding to
 * them — a board still streams every byte, so its busy time per token (the throughput bound) is unchanged.
 * Times are integer microseconds, so sums are exact and plans reproducible.
 */
import { type ModelConfig, planImage, type QuantKind } from '@tinypipe/core';
import { wireMicros } from '@tinypipe/protocol';
import { type BoardProfile, type KernelKind, macsPerCycle } from '../profiles/profiles.js';

export interface ModelSpec {
  config: ModelConfig;
  kind: QuantKind;
  groupSize: number;
}

export interface CostOptions {
  /** Which kernel figure of the profile to use. Default: the one its firmware has (`profile.kernel`). */
  kernel?: KernelKind;
  /** The weights' quantization, for profiles with a figure per kind. Default 'q4'. */
  quant?: QuantKind;
  /** Streams in flight: each needs its own KV cache. Default 1. */
  streams?: number;
}

export interface StageSelection {
  layers: readonly [number, number];
  embedding: boolean;
  vocab: readonly [number, number] | undefined;
}

/** Bytes a stage needs where, against what the board has. */
export interface Footprint {
  imageBytes: number;
  /** The model partition this board offers (flash after modelOffset, whole 64 KiB pages). */
  partitionBytes: number;
  /** KV caches (fp32, all streams) + the stage's run buffers, in PSRAM. */
  psramNeeded: number;
  psramAvailable: number;
  /** The hot path in internal SRAM: activations, quantized inputs, the link's frame buffers. */
  sramNeeded: number;
  fits: boolean;
  /** What does not fit, when something does not. */
  problems: string[];
}

const PAGE = 65536;
const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;

export function partitionBytes(profile: BoardProfile): number {
  return Math.max(0, Math.floor((profile.flashBytes - profile.modelOffset) / PAGE) * PAGE);
}

function kvDim(c: ModelConfig): number {
  return (c.dim * c.nKvHeads) / c.nHeads;
}

export function footprint(
  model: ModelSpec,
  stage: StageSelection,
  profile: BoardProfile,
  options: CostOptions = {},
): Footprint {
  const c = model.config;
  const streams = options.streams ?? 1;
  const imageBytes = planImage({
    config: c,
    kind: model.kind,
    groupSize: model.groupSize,
    layerRange: stage.layers,
    embedding: stage.embedding,
    vocabRange: stage.vocab,
  }).imageSize;
  const layers = stage.layers[1] - stage.layers[0];
  const kv = layers * 2 * c.seqLen * kvDim(c) * 4 * streams;
  const run =
    (3 * c.dim + 2 * c.hiddenDim + c.seqLen + (stage.vocab ? stage.vocab[1] - stage.vocab[0] : 0)) * 4;
  const psramNeeded = kv + run;
  // x, xb, xb2, q, hb, hb2, att (fp32) + int8 activations and scales + the link: 2 × 8 payload slots + 2 frames
  const sramNeeded =
    (4 * c.dim + 2 * c.hiddenDim + c.seqLen) * 4 + 2 * Math.max(c.dim, c.hiddenDim) + 2 * 8 * 4096 + 2 * 4130;
  const psramAvailable = Math.max(0, profile.psramBytes - profile.psramReserveBytes);
  const partition = partitionBytes(profile);
  const problems: string[] = [];
  if (imageBytes > partition)
    problems.push(
      `image ${mb(imageBytes)} > model partition ${mb(partition)} (short by ${mb(imageBytes - partition)})`,
    );
  if (imageBytes > profile.mmapWindowBytes)
    problems.push(`image ${mb(imageBytes)} > mmap window ${mb(profile.mmapWindowBytes)}`);
  if (psramNeeded > psramAvailable)
    problems.push(
      `KV cache + buffers ${mb(psramNeeded)} > PSRAM ${mb(psramAvailable)} (short by ${mb(psramNeeded - psramAvailable)})`,
    );
  if (sramNeeded > profile.sramBytes)
    problems.push(`hot-path buffers ${mb(sramNeeded)} > SRAM ${mb(profile.sramBytes)}`);
  return {
    imageBytes,
    partitionBytes: partition,
    psramNeeded,
    psramAvailable,
    sramNeeded,
    fits: problems.length === 0,
    problems,
  };
}

/** Flash bytes read and MACs done per token by a stage's layers (plus one embedding row). */
export function layerWork(
  model: ModelSpec,
  layers: number,
  embedding: boolean,
): { bytes: number; macs: number } {
  const c = model.config;
  if (layers === 0 && !embedding) return { bytes: 0, macs: 0 };
  const plan = planImage({
    config: c,
    kind: model.kind,
    groupSize: model.groupSize,
    layerRange: [0, layers],
    embedding,
    vocabRange: undefined,
  });
  let bytes = 0;
  for (const t of plan.tensors) {
    if (t.name.startsWith('embedding.'))
      bytes += t.byteLength / c.vocabSize; // one row per token
    else if (t.name.startsWith('rope.'))
      bytes += t.byteLength / c.seqLen; // one position
    else bytes += t.byteLength;
  }
  const kd = kvDim(c);
  const headSize = c.dim / c.nHeads;
  const perLayer =
    c.dim * c.dim * 2 + 2 * c.dim * kd + 3 * c.dim * c.hiddenDim + 2 * c.nHeads * headSize * (c.seqLen / 2);
  return { bytes, macs: layers * perLayer };
}

/** Flash bytes and MACs per token of classifier rows [v0, v1). */
export function classifierWork(
  model: ModelSpec,
  vocab: readonly [number, number],
): { bytes: number; macs: number } {
  const c = model.config;
  const rows = vocab[1] - vocab[0];
  const perRow = model.kind === 'q4' ? c.dim / 2 : c.dim;
  const scales = Math.ceil(c.dim / model.groupSize) * 2; // fp16 scale per group
  return { bytes: rows * (perRow + scales), macs: rows * c.dim };
}

const flashMicros = (bytes: number, profile: BoardProfile) => (bytes / (profile.flashMBps * 1e6)) * 1e6;

function computeMicros(macs: number, profile: BoardProfile, options: CostOptions): number {
  const rate = macsPerCycle(profile, options.quant ?? 'q4', options.kernel) * profile.clockMhz * 1e6;
  return (macs / rate) * 1e6;
}

/** Microseconds for `work` on `profile`: max(flash, compute). */
export function workMicros(
  work: { bytes: number; macs: number },
  profile: BoardProfile,
  options: CostOptions = {},
): number {
  return Math.ceil(Math.max(flashMicros(work.bytes, profile), computeMicros(work.macs, profile, options)));
}

/**
 * Microseconds of `first` (the first weights a forward reads) a board streams into its data cache while
 * it waits for its input (`profile.preloadBytes`): flash time it no longer spends after the input came.
 * Never more than the flash time beyond the compute (the cores still do every multiply-accumulate).
 */
export function preloadMicros(
  first: { bytes: number; macs: number },
  profile: BoardProfile,
  options: CostOptions = {},
): number {
  const slack = workMicros(first, profile, options) - Math.ceil(computeMicros(first.macs, profile, options));
  const ahead = Math.floor(flashMicros(Math.min(profile.preloadBytes, first.bytes), profile));
  return Math.max(0, Math.min(ahead, slack));
}

/** Microseconds to send one message of `payload` bytes on a hop: frame bytes × 10 bits ÷ baud + overhead. */
export function hopMicros(payload: number, profile: BoardProfile, baud = profile.uartBaud): number {
  return Math.ceil(wireMicros(payload, baud) + profile.perMessageMs * 1000);
}
