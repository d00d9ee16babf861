/**
 * The cost model: what one board's share of the model needs (flash, PSRAM) and how long it takes per
 * token. Every input is explicit — board profile figures, model shape, kernel, streams — so the
 * prediction can be calibrated against the simulator (issue 9) and real boards.
 *
 * Per token, a stage streams its weights from flash (the token-embedding table: one row), reads and
 * writes its KV cache in PSRAM, and does its multiply-accumulates. On the ESP32-S3 the PSRAM shares the
 * bus (and the cache) with the memory-mapped flash, so the memory time is the flash bytes at `flashMBps`
 * plus the KV bytes at `psramMBps` (one after the other on the bus); the cache MMU prefetches while the
 * cores compute, so a stage's time is max(memory, compute) — the stated overlap assumption. Attention
 * (its MACs and its KV reads) is counted at the average position of the context, seq_len / 2: each layer
 * reads that many K and V rows and writes one of each, in the plan's KV format (`kvBytesPerPosition`:
 * fp32, fp16 or int8 with a scale per kv head — docs/numerics.md §6b); the same bytes size the KV caches
 * in PSRAM.
 * A hop costs its frame bytes at 10 bits per byte plus a fixed per-message latency.
 * While a board waits for its next input it preloads the first `preloadBytes` of its weights into the data
 * cache (`preloadMicros`), so that part of a forward's flash time overlaps the hops instead of adding to
 * them — a board still streams every byte, so its busy time per token (the throughput bound) is unchanged.
 * Times are integer microseconds, so sums are exact and plans reproducible.
 */
import { kvDim, type ModelConfig, planImage, type QuantKind } from '@tinypipe/core';
import { wireMicros } from '@tinypipe/protocol';
import { type BoardProfile, type KernelKind, macsPerCycle } from '../profiles/profiles.js';
import { type KvFormat, kvBytesPerPosition } from './kv.js';

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
  /** The KV cache's format (its bytes per position). Default 'fp32'. */
  kv?: KvFormat;
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
  /** KV caches (in the plan's format, all streams) + the stage's run buffers, in PSRAM. */
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

/**
 * KV-cache bytes `layers` layers move per token at context `context` (default the model's seq_len) in
 * format `kv`: reads of every previous position's K and V row at the average position (context / 2),
 * plus the one K and one V row the token writes — per layer `kvBytesPerPosition` × (context / 2 + 1)
 * (fp32: 2 × kv_dim × 4 × (context / 2 + 1)).
 */
export function kvBytesPerToken(
  model: ModelSpec,
  layers: number,
  context = model.config.seqLen,
  kv: KvFormat = 'fp32',
): number {
  return layers * kvBytesPerPosition(model.config, kv) * (context / 2 + 1);
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
    vocab: stage.vocab,
  }).imageSize;
  const layers = stage.layers[1] - stage.layers[0];
  const kv = layers * c.seqLen * kvBytesPerPosition(c, options.kv) * streams;
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

/**
 * What a stage does per token: flash bytes it streams, KV-cache bytes it moves in PSRAM (0: none) and
 * multiply-accumulates.
 */
export interface Work {
  bytes: number;
  kvBytes?: number;
  macs: number;
}

/**
 * Flash bytes read, KV-cache bytes moved (in format `kv`) and MACs done per token by a stage's layers
 * (plus one embedding row), at the average position of the model's context (seq_len / 2).
 */
export function layerWork(
  model: ModelSpec,
  layers: number,
  embedding: boolean,
  kv: KvFormat = 'fp32',
): { bytes: number; kvBytes: number; macs: number } {
  const c = model.config;
  if (layers === 0 && !embedding) return { bytes: 0, kvBytes: 0, macs: 0 };
  const plan = planImage({
    config: c,
    kind: model.kind,
    groupSize: model.groupSize,
    layerRange: [0, layers],
    embedding,
    vocab: undefined,
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
  return { bytes, kvBytes: kvBytesPerToken(model, layers, c.seqLen, kv), macs: layers * perLayer };
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

/** The PSRAM rate through the shared bus: the profile's `psramMBps`, or its flash rate when it has none. */
export function psramMBps(profile: BoardProfile): number {
  return profile.psramMBps ?? profile.flashMBps;
}

/** Microseconds the shared bus spends on `work`: its flash bytes, then its KV bytes. */
function memoryMicros(work: Work, profile: BoardProfile): number {
  return flashMicros(work.bytes, profile) + ((work.kvBytes ?? 0) / (psramMBps(profile) * 1e6)) * 1e6;
}

function computeMicros(macs: number, profile: BoardProfile, options: CostOptions): number {
  const rate = macsPerCycle(profile, options.quant ?? 'q4', options.kernel) * profile.clockMhz * 1e6;
  return (macs / rate) * 1e6;
}

/** Microseconds for `work` on `profile`: max(memory (flash + KV cache on the shared bus), compute). */
export function workMicros(work: Work, profile: BoardProfile, options: CostOptions = {}): number {
  return Math.ceil(Math.max(memoryMicros(work, profile), computeMicros(work.macs, profile, options)));
}

/**
 * Microseconds of `first` (the first weights a forward reads) a board streams into its data cache while
 * it waits for its input (`profile.preloadBytes`): flash time it no longer spends after the input came.
 * Never more than the flash time beyond the compute (the cores still do every multiply-accumulate).
 */
export function preloadMicros(first: Work, profile: BoardProfile, options: CostOptions = {}): number {
  const slack = workMicros(first, profile, options) - Math.ceil(computeMicros(first.macs, profile, options));
  const ahead = Math.floor(flashMicros(Math.min(profile.preloadBytes, first.bytes), profile));
  return Math.max(0, Math.min(ahead, slack));
}

/** Microseconds to send one message of `payload` bytes on a hop: frame bytes × 10 bits ÷ baud + overhead. */
export function hopMicros(payload: number, profile: BoardProfile, baud = profile.uartBaud): number {
  return Math.ceil(wireMicros(payload, baud) + profile.perMessageMs * 1000);
}

/** Boards send LOGITS in slices of this many rows (packages/firmware/src/serve.c, docs/protocol.md §5). */
export const LOGITS_ROWS_PER_MESSAGE = 128;

/**
 * Buckets a slice's HISTOGRAM carries per token, as a bound (docs/protocol.md §5.3: from its top bucket to a
 * binade below its own nucleus; 63 on synthetic stories15M at top-p 0.9, where the distribution is flat),
 * and the bytes of each (an exact mass in LEB128: a 24-bit value times a count).
 */
export const HISTOGRAM_BUCKETS = 64;
export const HISTOGRAM_BUCKET_BYTES = 5;

/**
 * The payload bytes of each message a board holding `rows` classifier rows sends per token: one TOKEN
 * when it holds the whole classifier (`split` false: it samples), else — a slice sampling with the host
 * (docs/numerics.md §10b, docs/protocol.md §5.3), whatever its rows — SLICE_MAX, one HISTOGRAM and the
 * drawn TOKEN (one slice draws; each is charged it, a bound). Greedy sends only SLICE_MAX; the model
 * plans for top-p. The one place the classifier hop's size is decided.
 */
export function classifierMessages(_rows: number, split: boolean): number[] {
  if (!split) return [9];
  // SLICE_MAX; HISTOGRAM: header, the rest below the buckets (LEB128, ≤ 26 bytes), the buckets; TOKEN
  return [13, 9 + 26 + HISTOGRAM_BUCKETS * HISTOGRAM_BUCKET_BYTES, 9];
}

/** Microseconds a board holding `rows` classifier rows spends sending its classifier's output per token. */
export function classifierHopMicros(rows: number, split: boolean, profile: BoardProfile): number {
  let us = 0;
  for (const payload of classifierMessages(rows, split)) us += hopMicros(payload, profile);
  return us;
}
