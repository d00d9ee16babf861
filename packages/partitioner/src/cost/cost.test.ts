import { MODEL_SHAPES } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../profiles/profiles.js';
import { evaluateSplit } from '../solver/solve.js';
import { layerWork, preloadMicros, workMicros } from './cost.js';

const n16r8 = BUILTIN_PROFILES['esp32s3-n16r8']!;
const model = { config: MODEL_SHAPES['260K'], kind: 'q8' as const, groupSize: 32 };
const layer = layerWork(model, 1, false);

describe('preloadMicros', () => {
  it('is the flash time of the preloaded bytes when the work is flash-bound', () => {
    const bytes = 8192;
    const us = preloadMicros(layer, { ...n16r8, preloadBytes: bytes });
    expect(us).toBe(Math.floor((bytes / (n16r8.flashMBps * 1e6)) * 1e6));
    expect(us).toBeLessThan(workMicros(layer, n16r8));
  });

  it('never exceeds the weights’ own streaming time beyond their compute', () => {
    const all = preloadMicros(layer, { ...n16r8, preloadBytes: 10 * layer.bytes });
    expect(all).toBe(preloadMicros(layer, { ...n16r8, preloadBytes: layer.bytes }));
    expect(all).toBeGreaterThan(0);
    expect(all).toBeLessThan(workMicros(layer, n16r8));
  });

  it('is 0 without a preload, and 0 when the cores, not the flash, are the limit', () => {
    expect(preloadMicros(layer, { ...n16r8, preloadBytes: 0 })).toBe(0);
    // the plain C kernel (0.08 MAC/cycle) makes the same layer compute-bound: its time is the compute
    const flashUs = (layer.bytes / (n16r8.flashMBps * 1e6)) * 1e6;
    expect(workMicros(layer, n16r8, { kernel: 'ansi' })).toBeGreaterThan(2 * flashUs);
    expect(preloadMicros(layer, n16r8, { kernel: 'ansi' })).toBe(0);
  });
});

describe('what a preload changes in a prediction', () => {
  const problem = (boards: number, streams: number, preloadBytes: number) => ({
    model,
    boards: Array.from({ length: boards }, () => ({ ...n16r8, preloadBytes })),
    objective: 'throughput' as const,
    streams,
    splitClassifier: false,
  });
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
});
