import { MODEL_SHAPES, type ModelConfig } from '@tinypipe/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type BoardProfile, BUILTIN_PROFILES } from '../profiles/profiles.js';
import { bruteForceSolve } from '../testing/index.js';
import { evaluateSplit, type Problem, solve } from './solve.js';

const base = BUILTIN_PROFILES['esp32s3-n16r8']!;
const KiB = 1024;

/** Small boards so the tiny models below are tight: some splits fit, some do not. */
const board = fc.record({
  flashKiB: fc.integer({ min: 2048, max: 2600 }), // partition = flash − 1984 KiB (modelOffset 0x1F0000)
  psramKiB: fc.integer({ min: 300, max: 1500 }),
  flashMBps: fc.constantFrom(5, 13.3, 26, 68),
  mac: fc.constantFrom(0.08, 1, 5.8),
  baud: fc.constantFrom(115_200, 2_000_000, 20_000_000),
});
const toProfile = (
  b: { flashKiB: number; psramKiB: number; flashMBps: number; mac: number; baud: number },
  i: number,
): BoardProfile => ({
  ...base,
  name: `test-${i}`,
  flashBytes: b.flashKiB * KiB,
  psramBytes: b.psramKiB * KiB,
  flashMBps: b.flashMBps,
  macsPerCycle: { ansi: b.mac, optimized: b.mac },
  uartBaud: b.baud,
});

const config = fc.record({
  nLayers: fc.integer({ min: 1, max: 5 }),
  vocabSize: fc.constantFrom(256, 512, 2048),
  seqLen: fc.constantFrom(64, 256, 512),
});
const model = (c: { nLayers: number; vocabSize: number; seqLen: number }, kind: 'q4' | 'q8') => ({
  config: { ...MODEL_SHAPES['260K'], ...c } as ModelConfig,
  kind,
  groupSize: 32,
});

describe('solve', () => {
  it('equals the brute force on small heterogeneous instances (both objectives, with and without classifier slices, every KV format, the embedding on board 0 or the host)', () => {
    const seen = { feasible: 0, infeasible: 0, sliced: 0, multiBoard: 0 };
    fc.assert(
      fc.property(
        config,
        fc.constantFrom('q4' as const, 'q8' as const),
        fc.array(board, { minLength: 1, maxLength: 4 }),
        fc.constantFrom('latency' as const, 'throughput' as const),
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.constantFrom('fp32' as const, 'fp16' as const, 'int8' as const),
        fc.constantFrom('board' as const, 'host' as const),
        (c, kind, boards, objective, streams, splitClassifier, kv, embedding) => {
          fc.pre(boards.length <= c.nLayers + 1);
          const p: Problem = {
            model: model(c, kind),
            boards: boards.map(toProfile),
            objective,
            streams,
            splitClassifier,
            kv,
            embedding,
          };
          const dp = solve(p);
          const brute = bruteForceSolve(p);
          expect(dp?.split).toEqual(brute?.split);
          expect(dp?.slices).toEqual(brute?.slices);
          expect(dp?.costUs).toEqual(brute?.costUs);
          if (!dp) seen.infeasible++;
          else {
            seen.feasible++;
            if (dp.slices > 1) seen.sliced++;
            if (dp.split.length > 1) seen.multiBoard++;
          }
        },
      ),
      { numRuns: 300 },
    );
    // the generator must cover every case, not only trivial ones
    expect(seen.feasible).toBeGreaterThan(60);
    expect(seen.infeasible).toBeGreaterThan(20);
    expect(seen.multiBoard).toBeGreaterThan(40);
    expect(seen.sliced).toBeGreaterThan(5);
  });

  it('splits the classifier when the link is fast and flash is the limit, and not over a slow link', () => {
    const c = { nLayers: 2, vocabSize: 2048, seqLen: 64 };
    const slowFlash = (baud: number) =>
      Array.from({ length: 3 }, (_, i) =>
        toProfile({ flashKiB: 4096, psramKiB: 4096, flashMBps: 1, mac: 5.8, baud }, i),
      );
    const fast = solve({ model: model(c, 'q8'), boards: slowFlash(20_000_000), objective: 'throughput' })!;
    expect(fast.slices).toBeGreaterThan(1);
    expect(fast).toEqual(
      bruteForceSolve({ model: model(c, 'q8'), boards: slowFlash(20_000_000), objective: 'throughput' }),
    );
    const slow = solve({ model: model(c, 'q8'), boards: slowFlash(9_600), objective: 'throughput' })!;
    expect(slow.slices).toBe(1);
  });

  it('says undefined when nothing fits, and scores a split that does not fit as undefined', () => {
    const tiny = toProfile({ flashKiB: 2000, psramKiB: 260, flashMBps: 26, mac: 1, baud: 2_000_000 }, 0);
    const p: Problem = {
      model: model({ nLayers: 3, vocabSize: 512, seqLen: 512 }, 'q8'),
      boards: [tiny],
      objective: 'latency',
    };
    expect(solve(p)).toBeUndefined();
    expect(evaluateSplit(p, [3], 1)).toBeUndefined();
  });

  it('is deterministic: the same problem gives the same plan', () => {
    const p: Problem = {
      model: { config: { ...MODEL_SHAPES['15M'], seqLen: 256 }, kind: 'q4', groupSize: 32 },
      boards: [BUILTIN_PROFILES['esp32s3-n16r8']!, BUILTIN_PROFILES['esp32s3-n8r8']!],
      objective: 'throughput',
      streams: 2,
    };
    expect(solve(p)).toEqual(solve(p));
  });
});
