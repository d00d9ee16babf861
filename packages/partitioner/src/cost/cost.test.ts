import { MODEL_SHAPES } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { type BoardProfile, BUILTIN_PROFILES } from '../profiles/profiles.js';
import { evaluateSplit } from '../solver/solve.js';
import { layerWork, preloadMicros, workMicros } from './cost.js';

const n16r8 = BUILTIN_PROFILES['esp32s3-n16r8']!;
/** The same module if its firmware had the PIE SIMD kernel (5.8 MAC/cycle): flash-bound. A what-if. */
const simd: BoardProfile = { ...n16r8, kernel: 'optimized' };
const model = { config: MODEL_SHAPES['260K'], kind: 'q8' as const, groupSize: 32 };
const layer = layerWork(model, 1, false);
const flashUs = (bytes: number) => (bytes / (n16r8.flashMBps * 1e6)) * 1e6;
const computeUs = (macs: number, macsPerCycle: number) =>
  (macs / (macsPerCycle * n16r8.clockMhz * 1e6)) * 1e6;

describe('the kernel a prediction assumes', () => {
  it('is the one the firmware has for the board: the S3’s plain C kernels, not the PIE figure', () => {
    expect(n16r8.kernel).toBe('ansi');
    expect(workMicros(layer, n16r8)).toBe(workMicros(layer, n16r8, { kernel: 'ansi' }));
    // 0.08 MAC/cycle at 240 MHz: one layer of stories260K (q8) is compute-bound, its time the compute
    expect(workMicros(layer, n16r8)).toBe(Math.ceil(computeUs(layer.macs, 0.08)));
    expect(workMicros(layer, n16r8)).toBeGreaterThan(flashUs(layer.bytes));
  });

  it('the SIMD figure applies when a profile says its firmware has that kernel, or a plan asks for it', () => {
    expect(workMicros(layer, simd)).toBe(workMicros(layer, n16r8, { kernel: 'optimized' }));
    // 5.8 MAC/cycle: the same layer is flash-bound
    expect(workMicros(layer, simd)).toBe(Math.ceil(flashUs(layer.bytes)));
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
    expect(workMicros(layer, n16r8)).toBeGreaterThan(flashUs(layer.bytes));
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
