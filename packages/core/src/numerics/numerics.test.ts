import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { quantizedVector, quantizeVector } from '../quant/kernels.js';
import { EXP_OVERFLOW, EXP_UNDERFLOW, expf32 } from './exp.js';
import { f32Bits, f32FromBits, fp16ToFp32, fp32ToFp16 } from './fp16.js';
import { fnv1a32, hashActivations } from './hash.js';
import { roundHalfAway } from './round.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url), 'utf8'));
const fromHex = (h: string) => f32FromBits(Number.parseInt(h, 16));
/** Distance in units in the last place between two finite binary32 of the same sign. */
const ulps = (a: number, b: number) => Math.abs(f32Bits(a) - f32Bits(b));

describe('expf32', () => {
  it('special values', () => {
    expect(expf32(0)).toBe(1);
    expect(expf32(-0)).toBe(1);
    expect(expf32(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(expf32(Number.POSITIVE_INFINITY)).toBe(Number.POSITIVE_INFINITY);
    expect(expf32(Number.NaN)).toBeNaN();
    expect(expf32(1000)).toBe(Number.POSITIVE_INFINITY);
    expect(expf32(-1000)).toBe(0);
    expect(expf32(Math.fround(EXP_OVERFLOW) + 1e-5)).toBe(Number.POSITIVE_INFINITY);
    expect(expf32(EXP_UNDERFLOW)).toBeGreaterThanOrEqual(0);
  });

  it('subnormal results are subnormal and close to the true value', () => {
    for (const x of [-88, -90, -95, -100, -103]) {
      const y = expf32(x);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(2 ** -126);
      const smallest = 2 ** -149;
      expect(Math.abs(y - Math.exp(x))).toBeLessThanOrEqual(2 * smallest + 4e-7 * Math.exp(x));
    }
  });

  it('stays within 3 ulp of the correctly rounded exp over a dense sweep of normal results', () => {
    let worst = 0;
    for (let x = -87.3; x < 88.7; x += 0.000913) {
      const xf = Math.fround(x);
      worst = Math.max(worst, ulps(expf32(xf), Math.fround(Math.exp(xf))));
    }
    expect(worst).toBeLessThanOrEqual(3);
  });

  it('is monotonic on a fine grid around 0 and ±ln2 boundaries', () => {
    for (const centre of [0, Math.LN2 / 2, -Math.LN2 / 2, 10 * Math.LN2]) {
      let prev = -1;
      for (let i = -2000; i <= 2000; i++) {
        const y = expf32(centre + i * 1e-6);
        expect(y).toBeGreaterThanOrEqual(prev);
        prev = y;
      }
    }
  });

  it('matches the shared vectors bit for bit, and each vector is within 3 ulp of exp (independent check)', () => {
    for (const { x, y } of vectors.exp) {
      const xv = fromHex(x);
      expect(f32Bits(expf32(xv)).toString(16).padStart(8, '0'), x).toBe(y.slice(2));
      const yv = fromHex(y);
      const truth = Math.fround(Math.exp(xv));
      if (Number.isNaN(xv)) expect(yv).toBeNaN();
      else if (!Number.isFinite(truth)) expect(yv).toBe(truth);
      else if (truth < 2 ** -126) expect(Math.abs(yv - Math.exp(xv))).toBeLessThan(2 ** -126);
      else expect(ulps(yv, truth)).toBeLessThanOrEqual(3);
    }
  });
});

describe('binary16', () => {
  it('fp16 → fp32 → fp16 is the identity on all 65536 halves (NaNs stay NaN)', () => {
    for (let h = 0; h < 0x10000; h++) {
      const v = fp16ToFp32(h);
      if (Number.isNaN(v)) expect(Number.isNaN(fp16ToFp32(fp32ToFp16(v)))).toBe(true);
      else expect(fp32ToFp16(v)).toBe(h);
    }
  });

  it('fp16 → fp32 gives the exact value (checked against the definition)', () => {
    for (let h = 0; h < 0x7c00; h += 7) {
      const e = (h >> 10) & 0x1f;
      const m = h & 0x3ff;
      const expected = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
      expect(fp16ToFp32(h)).toBe(expected);
      expect(fp16ToFp32(h | 0x8000)).toBe(-expected);
    }
  });

  it('fp32 → fp16 rounds to nearest, ties to even, overflowing to inf', () => {
    expect(fp32ToFp16(1 + 2 ** -11)).toBe(0x3c00); // tie → even (down)
    expect(fp32ToFp16(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie → even (up)
    expect(fp32ToFp16(65520)).toBe(0x7c00); // halfway above the largest half → inf
    expect(fp32ToFp16(65519)).toBe(0x7bff);
    expect(fp32ToFp16(2 ** -25)).toBe(0); // tie between 0 and the smallest subnormal → even (0)
    expect(fp32ToFp16(1.5 * 2 ** -25)).toBe(1);
    expect(fp32ToFp16(-2)).toBe(0xc000);
    for (let i = 0; i < 5000; i++) {
      const x = Math.fround((Math.random() - 0.5) * 2 ** ((i % 30) - 20));
      const h = fp32ToFp16(x);
      const y = fp16ToFp32(h);
      // no other half is closer
      for (const n of [h - 1, h + 1]) {
        if ((n & 0x7fff) < 0x7c00 && n >= 0 && n < 0x10000 && Math.sign(fp16ToFp32(n)) === Math.sign(y)) {
          expect(Math.abs(fp16ToFp32(n) - x)).toBeGreaterThanOrEqual(Math.abs(y - x));
        }
      }
    }
  });

  it('matches the shared vectors', () => {
    for (const { half, f32 } of vectors.fp16ToFp32)
      expect(f32Bits(fp16ToFp32(half))).toBe(Number.parseInt(f32, 16));
    for (const { f32, half } of vectors.fp32ToFp16) expect(fp32ToFp16(fromHex(f32))).toBe(half);
  });
});

describe('rounding and activation quantization', () => {
  it('roundHalfAway follows binary32 t ± 0.5 then truncation', () => {
    expect(roundHalfAway(2.5)).toBe(3);
    expect(roundHalfAway(-2.5)).toBe(-3);
    // 0.5 − 2^-25 + 0.5 = 1 − 2^-25, a binary32 tie that rounds to 1: C's (int)(t + 0.5f) gives 1 too
    expect(roundHalfAway(Math.fround(0.5 - 2 ** -25))).toBe(1);
    expect(roundHalfAway(-0.4)).toBe(0);
    expect(roundHalfAway(126.6)).toBe(127);
  });

  it('quantizeVector: zeros, scale = a/127, the extreme maps to ±127, short last group', () => {
    const x = Float32Array.from([...Array.from({ length: 32 }, (_, i) => (i - 16) / 4), 0, 0, 0, 2]);
    const v = quantizedVector(x.length, 32);
    quantizeVector(x, x.length, 32, v);
    expect(v.s[0]).toBe(Math.fround(4 / 127));
    expect(v.q[0]).toBe(-127);
    expect(v.q[16]).toBe(0);
    expect(v.s[1]).toBe(Math.fround(2 / 127));
    expect(Array.from(v.q.subarray(32))).toEqual([0, 0, 0, 127]);
    const z = quantizedVector(4, 32);
    quantizeVector(new Float32Array(4), 4, 32, z);
    expect(z.s[0]).toBe(0);
  });

  it('matches the shared activation vectors', () => {
    for (const c of vectors.activations) {
      const x = Float32Array.from(c.x, fromHex);
      const v = quantizedVector(x.length, c.groupSize);
      quantizeVector(x, x.length, c.groupSize, v);
      expect(Array.from(v.q)).toEqual(c.q);
      expect(Array.from(v.s, (s) => `0x${f32Bits(s).toString(16).padStart(8, '0')}`)).toEqual(c.scales);
    }
  });
});

describe('per-layer hash', () => {
  it('is FNV-1a 32 (published test values) over little-endian fp32 bytes', () => {
    expect(fnv1a32(new Uint8Array(0))).toBe(0x811c9dc5);
    expect(fnv1a32(new TextEncoder().encode('a'))).toBe(0xe40c292c);
    expect(fnv1a32(new TextEncoder().encode('foobar'))).toBe(0xbf9cf968);
    expect(hashActivations(Float32Array.of(1))).toBe(fnv1a32(Uint8Array.of(0, 0, 0x80, 0x3f)));
  });
});
