import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { argmax } from './sampler.js';
import { bucketOf, SlicedSampler, SliceSampling, units149 } from './sliced.js';

/** A deterministic generator for the test logits (not the sampler's RNG). */
function lcg(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function logitsOf(n: number, seed: number, spread: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, () => Math.fround((r() - 0.5) * spread));
}

/** Consecutive slices of [0, n) cut at `cuts`. */
function slicesOf(logits: Float32Array, cuts: number[], t: number, topp: number): SliceSampling[] {
  const edges = [0, ...cuts, logits.length];
  return edges
    .slice(0, -1)
    .map((from, i) => new SliceSampling(from, logits.slice(from, edges[i + 1]), t, topp));
}

describe('units149: a binary32 times 2^149, exactly', () => {
  it('normal, subnormal and zero values', () => {
    expect(units149(1)).toBe(2n ** 149n);
    expect(units149(0.75)).toBe(3n * 2n ** 147n);
    expect(units149(2 ** -149)).toBe(1n);
    expect(units149(3 * 2 ** -149)).toBe(3n);
    expect(units149(2 ** -126)).toBe(2n ** 23n);
    expect(units149(0)).toBe(0n);
    const r = lcg(5);
    for (let i = 0; i < 200; i++) {
      const v = Math.fround(r() * 2 ** -(i % 140));
      expect(Number(units149(v)) * 2 ** -149).toBe(v); // exact: < 2^53 significant bits
    }
  });
  it('buckets are the top 12 bits: 8 per binade', () => {
    expect(bucketOf(1)).toBe(0x3f8);
    expect(bucketOf(0.5)).toBe(0x3f0);
    expect(bucketOf(0.5 * 1.125)).toBe(0x3f1);
    expect(bucketOf(Math.fround(0.5 * 1.1249))).toBe(0x3f0);
  });
});

describe('SlicedSampler: split and unsplit give the same tokens', () => {
  const cases = [
    { n: 512, spread: 8, cuts: [256] },
    { n: 512, spread: 2, cuts: [100, 101, 400] },
    { n: 512, spread: 30, cuts: [1, 2, 3, 511] },
    { n: 333, spread: 0.01, cuts: [170] }, // nearly flat: the nucleus is most of the vocabulary
    { n: 64, spread: 1e-6, cuts: [13, 50] }, // ties everywhere
  ];
  for (const { n, spread, cuts } of cases)
    for (const temperature of [0, 0.5, 1, 1.7])
      for (const topp of [0, 0.3, 0.9, 1])
        it(`vocab ${n}, spread ${spread}, cuts [${cuts}], temperature ${temperature}, topp ${topp}`, async () => {
          const whole = new SlicedSampler({ vocabSize: n, temperature, topp, seed: 42 });
          const split = new SlicedSampler({ vocabSize: n, temperature, topp, seed: 42 });
          for (let step = 0; step < 6; step++) {
            const logits = logitsOf(n, step * 31 + n, spread);
            const a = whole.sample(logits);
            const b = await split.sampleSlices(
              slicesOf(logits, cuts, temperature, topp).map((s) => s.port()),
            );
            expect(b).toBe(a);
            if (temperature === 0) expect(a).toBe(argmax(logits));
          }
          expect(split.rng.state).toBe(whole.rng.state);
        });

  it('slices whose own nuclei lie far apart take more histogram rounds, and agree', async () => {
    // slice 0: the max and a far tail; slice 1: many tokens seven binades below the max, with most of the mass
    const n = 400;
    const logits = new Float32Array(n).fill(-30);
    logits[3] = 0;
    for (let i = 200; i < n; i++) logits[i] = Math.fround(-5 + (i % 7) * 0.01);
    for (const topp of [0.2, 0.6, 0.95]) {
      const whole = new SlicedSampler({ vocabSize: n, temperature: 1, topp, seed: 9 });
      const split = new SlicedSampler({ vocabSize: n, temperature: 1, topp, seed: 9 });
      for (let step = 0; step < 20; step++) {
        const b = await split.sampleSlices(slicesOf(logits, [200], 1, topp).map((s) => s.port()));
        expect(b).toBe(whole.sample(logits));
      }
      if (topp === 0.95) expect(split.lastRounds.histograms).toBeGreaterThan(1);
    }
  });

  it('top-p keeps whole buckets: a token holding more than topp of the mass alone in its bucket is always drawn', () => {
    const logits = new Float32Array(100).fill(0);
    logits[17] = 8; // e = 1 against e^-8 ≈ 3.4e-4 for 99 others: 97 % of the mass
    const s = new SlicedSampler({ vocabSize: 100, temperature: 1, topp: 0.9, seed: 1 });
    for (let i = 0; i < 50; i++) expect(s.sample(logits)).toBe(17);
    const all = new SlicedSampler({ vocabSize: 100, temperature: 1, topp: 1, seed: 1 });
    const seen = new Set(Array.from({ length: 400 }, () => all.sample(logits)));
    expect(seen.size).toBeGreaterThan(1); // without top-p the tail is drawn sometimes
  });

  it('NONFINITE before the RNG moves, on either side', async () => {
    const logits = logitsOf(64, 1, 4);
    logits[40] = Number.NaN;
    const s = new SlicedSampler({ vocabSize: 64, temperature: 1, topp: 0.9, seed: 3 });
    const state = s.rng.state;
    expect(codeOf(() => s.sample(logits))).toBe('NONFINITE');
    expect(codeOf(() => slicesOf(logits, [32], 1, 0.9))).toBe('NONFINITE');
    const tiny = logitsOf(64, 2, 4);
    expect(
      codeOf(() => new SlicedSampler({ vocabSize: 64, temperature: 1e-44, topp: 0.9, seed: 3 }).sample(tiny)),
    ).toBe('NONFINITE');
    expect(s.rng.state).toBe(state);
  });
});
