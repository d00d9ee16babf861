import { MODEL_SHAPES } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { type BoardProfile, BUILTIN_PROFILES } from '../profiles/profiles.js';
import { evaluateSplit } from '../solver/solve.js';
import {
  classifierMessages,
  classifierWork,
  kvBytesPerToken,
  layerWork,
  type ModelSpec,
  preloadMicros,
  workMicros,
} from './cost.js';

const n16r8 = BUILTIN_PROFILES['esp32s3-n16r8']!;
/** The same module if its firmware had the PIE SIMD kernel (5.8 MAC/cycle): flash-bound. A what-if. */
const simd: BoardProfile = { ...n16r8, kernel: 'optimized' };
const model = { config: MODEL_SHAPES['260K'], kind: 'q8' as const, groupSize: 32 };
const layer = layerWork(model, 1, false);
const flashUs = (bytes: number) => (bytes / (n16r8.flashMBps * 1e6)) * 1e6;
const psramUs = (bytes: number) => (bytes / (n16r8.psramMBps! * 1e6)) * 1e6;
const computeUs = (macs: number, macsPerCycle: number) =>
  (macs / (macsPerCycle * n16r8.clockMhz * 1e6)) * 1e6;

describe('the kernel a prediction assumes', () => {
  it('is the one the firmware has for the board: the S3’s plain C kernels, not the PIE figure', () => {
    expect(n16r8.kernel).toBe('ansi');
    expect(workMicros(layer, n16r8)).toBe(workMicros(layer, n16r8, { kernel: 'ansi' }));
    // 0.08 MAC/cycle at 240 MHz: one layer of stories260K (q8) is compute-bound, its time the compute
    expect(workMicros(layer, n16r8)).toBe(Math.ceil(computeUs(layer.macs, 0.08)));
    expect(workMicros(layer, n16r8)).toBeGreaterThan(flashUs(layer.bytes) + psramUs(layer.kvBytes));
  });

  it('the SIMD figure applies when a profile says its firmware has that kernel, or a plan asks for it', () => {
    expect(workMicros(layer, simd)).toBe(workMicros(layer, n16r8, { kernel: 'optimized' }));
    // 5.8 MAC/cycle: the same layer is memory-bound: its weights from flash, then its KV cache from PSRAM
    expect(workMicros(layer, simd)).toBe(Math.ceil(flashUs(layer.bytes) + psramUs(layer.kvBytes)));
  });

  it('a profile with a figure per weight kind uses the one of the weights', () => {
    const measured = { ...n16r8, macsPerCycle: { ...n16r8.macsPerCycle, ansi: { q4: 0.02, q8: 0.04 } } };
    expect(workMicros(layer, measured, { quant: 'q8' })).toBe(Math.ceil(computeUs(layer.macs, 0.04)));
    expect(workMicros(layer, measured, { quant: 'q4' })).toBe(Math.ceil(computeUs(layer.macs, 0.02)));
  });
});

describe('preloadMicros', () => {
  it('is the flash time of the preloaded bytes when the work is flash-bound', () => {
    const bytes = 8192;
    const us = preloadMicros(layer, { ...simd, preloadBytes: bytes });
    expect(us).toBe(Math.floor(flashUs(bytes)));
    expect(us).toBeLessThan(workMicros(layer, simd));
  });

  it('never exceeds the weights’ own streaming time beyond their compute', () => {
    const all = preloadMicros(layer, { ...simd, preloadBytes: 10 * layer.bytes });
    expect(all).toBe(preloadMicros(layer, { ...simd, preloadBytes: layer.bytes }));
    expect(all).toBeGreaterThan(0);
    expect(all).toBeLessThan(workMicros(layer, simd));
  });

  it('is 0 without a preload, and 0 when the cores, not the flash, are the limit (the S3’s plain C kernels)', () => {
    expect(preloadMicros(layer, { ...simd, preloadBytes: 0 })).toBe(0);
    expect(workMicros(layer, n16r8)).toBeGreaterThan(flashUs(layer.bytes) + psramUs(layer.kvBytes));
    expect(preloadMicros(layer, n16r8)).toBe(0);
  });
});

describe('what a preload changes in a prediction', () => {
  const problem = (boards: number, streams: number, preloadBytes: number, profile = simd) => ({
    model,
    boards: Array.from({ length: boards }, () => ({ ...profile, preloadBytes })),
    objective: 'throughput' as const,
    streams,
    splitClassifier: false,
  });
  // flash-bound boards (the SIMD what-if): the preload has flash time to hide
  const one = (preload: number) => evaluateSplit(problem(1, 1, preload), [5], 1)!;
  const two = (preload: number) => evaluateSplit(problem(2, 2, preload), [3, 2], 1)!;

  it('a board busy all the time stays the bound: one board, one stream, no faster than its forward', () => {
    expect(one(32768).tokensPerSecond).toBeCloseTo(1e6 / one(32768).bottleneckUs, 6);
    expect(one(32768).latencyUs).toBe(one(32768).bottleneckUs);
    expect(one(32768).bottleneckUs).toBe(one(0).bottleneckUs);
  });

  it('two boards, two streams: the hops hide behind the preload, so the pair gains on the single board', () => {
    const without = two(0).tokensPerSecond / one(0).tokensPerSecond;
    const withPreload = two(32768).tokensPerSecond / one(32768).tokensPerSecond;
    expect(withPreload).toBeGreaterThan(without);
    expect(two(32768).stages.every((s) => s.preloadUs > 0)).toBe(true);
    // a board still streams every byte: busy time per token (the bound) is the same either way
    expect(two(32768).bottleneckUs).toBe(two(0).bottleneckUs);
  });

  it('with the S3’s own (plain C) kernels the boards are compute-bound: the preload hides nothing', () => {
    const plain = (boards: number, streams: number, preload: number, split: number[]) =>
      evaluateSplit(problem(boards, streams, preload, n16r8), split, 1)!;
    expect(plain(2, 2, 32768, [3, 2]).stages.every((s) => s.preloadUs === 0)).toBe(true);
    expect(plain(2, 2, 32768, [3, 2]).tokensPerSecond).toBe(plain(2, 2, 0, [3, 2]).tokensPerSecond);
    expect(plain(1, 1, 32768, [5]).tokensPerSecond).toBe(plain(1, 1, 0, [5]).tokensPerSecond);
  });
});

describe('KV-cache traffic on the memory bus', () => {
  const m15 = { config: MODEL_SHAPES['15M'], kind: 'q4' as const, groupSize: 32 };
  const m42 = { config: MODEL_SHAPES['42M'], kind: 'q4' as const, groupSize: 32 };
  /** Flash bytes per token of the whole model on one board: layers, one embedding row, the classifier. */
  const weightBytes = (m: ModelSpec) =>
    layerWork(m, m.config.nLayers, true).bytes + classifierWork(m, [0, m.config.vocabSize]).bytes;

  it('is 2 × kv_dim × 4 bytes × (context / 2 reads + 1 write) per layer: stories15M by hand', () => {
    // 15M: dim 288, 6 heads = 6 kv heads → kv_dim 288; seq_len 256 → average position 128
    expect(MODEL_SHAPES['15M']).toMatchObject({ dim: 288, nHeads: 6, nKvHeads: 6, nLayers: 6, seqLen: 256 });
    expect(kvBytesPerToken(m15, 6)).toBe(6 * 2 * 288 * 4 * (128 + 1)); // 1,783,296 B
    expect(layerWork(m15, 3, false).kvBytes).toBe(3 * 2 * 288 * 4 * 129);
    // 260K: dim 64, 8 heads, 4 kv heads → kv_dim 32; seq_len 512 → 256 reads + 1 write
    expect(layer.kvBytes).toBe(2 * 32 * 4 * 257);
    expect(layerWork(m15, 0, false).kvBytes).toBe(0);
    expect(classifierWork(m15, [0, 32000])).not.toHaveProperty('kvBytes');
  });

  it('adds what the issue measured to the bytes per token: +21 % for stories15M, +71 % for stories42M', () => {
    const r15 = kvBytesPerToken(m15, 6) / weightBytes(m15);
    const r42 = kvBytesPerToken(m42, 8) / weightBytes(m42);
    expect(r15).toBeGreaterThan(0.205);
    expect(r15).toBeLessThan(0.215);
    expect(r42).toBeGreaterThan(0.705);
    expect(r42).toBeLessThan(0.72);
  });

  it('grows with the context, and with it the time of a memory-bound stage', () => {
    const at = (seqLen: number) => ({ ...m15, config: { ...m15.config, seqLen } });
    const short = layerWork(at(128), 6, false);
    const long = layerWork(at(1024), 6, false);
    expect(long.kvBytes - short.kvBytes).toBe(6 * 2 * 288 * 4 * ((1024 - 128) / 2));
    expect(workMicros(long, simd)).toBeGreaterThan(workMicros(short, simd));
    // the SIMD what-if is memory-bound: the time is the flash bytes at 26 MB/s plus the KV bytes at 68 MB/s
    expect(n16r8.flashMBps).toBe(26);
    expect(n16r8.psramMBps).toBe(68);
    expect(workMicros(long, simd)).toBe(Math.ceil(long.bytes / 26 + long.kvBytes / 68));
  });

  it('costs the KV bytes at the flash rate on a profile that gives no PSRAM rate', () => {
    const { psramMBps: _, ...noRate } = simd;
    const w = layerWork(m15, 6, false);
    expect(workMicros(w, noRate)).toBe(Math.ceil((w.bytes + w.kvBytes) / 26));
    expect(workMicros(w, noRate)).toBeGreaterThan(workMicros(w, simd));
  });
});

describe('classifierMessages: the classifier hop, decided in one place', () => {
  it('one TOKEN when the board holds the whole classifier and samples', () => {
    expect(classifierMessages(32000, false)).toEqual([9]);
  });

  it('a split slice sends SLICE_MAX, a HISTOGRAM and a TOKEN, not its logits, whatever its rows', () => {
    const m = classifierMessages(16000, true);
    expect(m).toEqual([13, 9 + 26 + 64 * 5, 9]);
    expect(classifierMessages(130, true)).toEqual(m);
    // 64 KB of logits for 16,000 rows before; now under 2 KB
    expect(m.reduce((a, b) => a + b, 0)).toBeLessThan(2048);
  });
});
