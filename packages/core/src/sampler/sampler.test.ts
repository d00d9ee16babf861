import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { Xorshift64Star } from './rng.js';
import { argmax, Sampler, softmaxF32 } from './sampler.js';

/** The reference: run.c's random_u32 written directly with BigInt, step by step. */
function referenceU32(seed: bigint, steps: number): number[] {
  let s = seed;
  const out: number[] = [];
  for (let i = 0; i < steps; i++) {
    s ^= s >> 12n;
    s ^= (s << 25n) % 2n ** 64n;
    s ^= s >> 27n;
    out.push(Number(((s * 0x2545f4914f6cdd1dn) % 2n ** 64n) / 2n ** 32n));
  }
  return out;
}

describe('Xorshift64Star', () => {
  it('follows run.c random_u32 for several seeds', () => {
    for (const seed of [1n, 42n, 1234567890123n, 2n ** 64n - 1n]) {
      const rng = new Xorshift64Star(seed);
      expect(Array.from({ length: 50 }, () => rng.nextU32())).toEqual(referenceU32(seed, 50));
    }
  });
  it('first step by hand for seed 1', () => {
    // s = 1: s ^= s>>12 → 1; s ^= s<<25 → 0x2000001; s ^= s>>27 → 0x2000001
    const rng = new Xorshift64Star(1);
    const u = rng.nextU32();
    expect(rng.state).toBe(0x2000001n);
    expect(u).toBe(Number(((0x2000001n * 0x2545f4914f6cdd1dn) % 2n ** 64n) >> 32n));
  });
  it('random_f32 is (u32 >> 8) / 2^24, in [0, 1)', () => {
    const a = new Xorshift64Star(7);
    const b = new Xorshift64Star(7);
    for (let i = 0; i < 100; i++) {
      const f = a.nextF32();
      expect(f).toBe((b.nextU32() >>> 8) / 16777216);
      expect(f).toBeGreaterThanOrEqual(0);
      expect(f).toBeLessThan(1);
    }
  });
  it('reduces the seed modulo 2^64', () => {
    expect(new Xorshift64Star(2n ** 64n + 5n).state).toBe(5n);
  });
});

/** A slow, obviously-correct transcription of run.c's sample() for comparison. */
function referenceSample(logitsIn: Float32Array, temperature: number, topp: number, seed: bigint): number {
  const n = logitsIn.length;
  const f = Math.fround;
  const t = f(temperature);
  if (t === 0) {
    let best = 0;
    for (let i = 1; i < n; i++) if (logitsIn[i]! > logitsIn[best]!) best = i;
    return best;
  }
  const x = Array.from(logitsIn, (v) => f(v / t));
  const max = Math.max(...x);
  let sum = 0;
  const e = x.map((v) => {
    const r = f(Math.exp(f(v - max)));
    sum = f(sum + r);
    return r;
  });
  const p = e.map((v) => f(v / sum));
  const coin = (referenceU32(seed, 1)[0]! >>> 8) / 16777216;
  const tp = f(topp);
  if (tp <= 0 || tp >= 1) {
    let cdf = 0;
    for (let i = 0; i < n; i++) {
      cdf = f(cdf + p[i]!);
      if (coin < cdf) return i;
    }
    return n - 1;
  }
  const cutoff = f(f(1 - tp) / (n - 1));
  const cand = p.map((prob, index) => ({ prob, index })).filter((c) => c.prob >= cutoff);
  cand.sort((a, b) => b.prob - a.prob);
  let cum = 0;
  let last = cand.length - 1;
  for (let i = 0; i < cand.length; i++) {
    cum = f(cum + cand[i]!.prob);
    if (cum > tp) {
      last = i;
      break;
    }
  }
  const r = f(coin * cum);
  let cdf = 0;
  for (let i = 0; i <= last; i++) {
    cdf = f(cdf + cand[i]!.prob);
    if (r < cdf) return cand[i]!.index;
  }
  return cand[last]!.index;
}

describe('Sampler', () => {
  const logits = (seed: number, n: number) => {
    const rng = new Xorshift64Star(seed);
    return Float32Array.from({ length: n }, () => (rng.nextF32() - 0.5) * 8);
  };

  it('argmax returns the first maximum', () => {
    expect(argmax(Float32Array.of(1, 3, 3, 2))).toBe(1);
    expect(
      new Sampler({ vocabSize: 4, temperature: 0, topp: 0.9, seed: 1 }).sample(Float32Array.of(0, 5, 5, 1)),
    ).toBe(1);
  });

  it('matches the reference for multinomial and top-p over many seeds and temperatures', () => {
    for (let s = 1; s <= 200; s++) {
      for (const [temperature, topp] of [
        [1, 0.9],
        [0.8, 0.5],
        [1.3, 0],
        [1, 1],
        [0.5, 0.99],
      ] as const) {
        const l = logits(s, 97);
        const expected = referenceSample(l.slice(), temperature, topp, BigInt(s));
        const got = new Sampler({ vocabSize: 97, temperature, topp, seed: s }).sample(l.slice());
        expect(got, `seed ${s} t=${temperature} p=${topp}`).toBe(expected);
      }
    }
  });

  it('draws tokens with the softmax probabilities (statistically)', () => {
    const base = Float32Array.of(0, Math.log(2), Math.log(4), Math.log(1));
    const sampler = new Sampler({ vocabSize: 4, temperature: 1, topp: 0, seed: 99 });
    const counts = [0, 0, 0, 0];
    const draws = 20000;
    for (let i = 0; i < draws; i++) counts[sampler.sample(base.slice())]!++;
    const expected = [1 / 8, 2 / 8, 4 / 8, 1 / 8];
    for (const [i, c] of counts.entries()) expect(Math.abs(c / draws - expected[i]!)).toBeLessThan(0.015);
  });

  it('top-p never returns a token outside the nucleus', () => {
    // probabilities 0.5, 0.3, 0.15, 0.05: topp 0.7 keeps the first two
    const l = Float32Array.from([0.5, 0.3, 0.15, 0.05], Math.log);
    const sampler = new Sampler({ vocabSize: 4, temperature: 1, topp: 0.7, seed: 5 });
    for (let i = 0; i < 2000; i++) expect([0, 1]).toContain(sampler.sample(l.slice()));
  });

  it('softmaxF32 sums to ~1 and keeps order', () => {
    const x = Float32Array.of(1, 2, 3);
    softmaxF32(x);
    expect(x[0]! + x[1]! + x[2]!).toBeCloseTo(1, 6);
    expect(x[2]!).toBeGreaterThan(x[1]!);
  });

  it('validates its options', () => {
    const ok = { vocabSize: 4, temperature: 1, topp: 0.9, seed: 1 };
    expect(codeOf(() => new Sampler({ ...ok, temperature: -0.1 }))).toBe('BAD_TEMPERATURE');
    expect(codeOf(() => new Sampler({ ...ok, temperature: Number.NaN }))).toBe('BAD_TEMPERATURE');
    expect(codeOf(() => new Sampler({ ...ok, topp: 1.5 }))).toBe('BAD_TOPP');
    expect(codeOf(() => new Sampler({ ...ok, topp: -0.01 }))).toBe('BAD_TOPP');
    expect(codeOf(() => new Sampler({ ...ok, topp: Number.NaN }))).toBe('BAD_TOPP');
    expect(codeOf(() => new Sampler({ ...ok, seed: -1 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new Sampler({ ...ok, vocabSize: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => new Sampler(ok).sample(new Float32Array(2)))).toBe('INVALID_ARGUMENT');
  });
});

describe('defined for every input (docs/numerics.md §10a)', () => {
  it('top-p with no token above the cutoff (temperature 1e30, topp 0.001) takes the whole vocabulary', () => {
    const logits = Float32Array.from({ length: 512 }, (_, i) => (i % 7) - 3);
    for (const exp of ['platform', 'spec'] as const) {
      const s = new Sampler({ vocabSize: 512, temperature: 1e30, topp: 0.001, seed: 3, exp });
      const t = s.sample(logits.slice());
      expect(Number.isInteger(t) && t >= 0 && t < 512).toBe(true);
    }
    // one token: the cutoff (1 - topp) / 0 is +Inf, and the only token is the answer
    expect(
      new Sampler({ vocabSize: 1, temperature: 1, topp: 0.5, seed: 1 }).sample(new Float32Array([2])),
    ).toBe(0);
  });
  it('NaN or infinite logits, or logits / temperature overflowing: NONFINITE before the RNG moves', () => {
    const s = new Sampler({ vocabSize: 4, temperature: 1, topp: 0.9, seed: 3 });
    const before = s.rng.state;
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(codeOf(() => s.sample(new Float32Array([0, bad, 1, 2])))).toBe('NONFINITE');
    expect(s.rng.state).toBe(before);
    const tiny = new Sampler({ vocabSize: 2, temperature: 1e-44, topp: 0.9, seed: 3 });
    expect(codeOf(() => tiny.sample(new Float32Array([1, 2])))).toBe('NONFINITE');
    expect(
      codeOf(() =>
        new Sampler({ vocabSize: 2, temperature: 0, topp: 1, seed: 3 }).sample(
          new Float32Array([1, Number.NaN]),
        ),
      ),
    ).toBe('NONFINITE');
  });
});
