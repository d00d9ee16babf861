/**
 * KV cache formats (docs/numerics.md §6b): the shared vectors (kvCache, kvCacheNonfinite in
 * numerics/vectors.json, read by the firmware's tests too) against the code and against derivations
 * that do not use it; the in-place round trip the stages use against store + read; bytes per position.
 */
import { readFileSync } from 'node:fs';
import { KV_FORMATS } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { rng } from '../kernels/kernels.test-helper.js';
import { f32Bits, f32FromBits, fp16ToFp32 } from '../numerics/fp16.js';
import { MODEL_SHAPES } from '../synth/synthesize.js';
import { kvBytesPerPosition, kvRoundTrip, readKvRow, storeKvRow } from './kv-format.js';

interface KvVector {
  format: 'fp16' | 'int8';
  headSize: number;
  x: string[];
  halves?: number[];
  q?: number[];
  scales?: string[];
  readBack: string[];
}
const vectors = JSON.parse(readFileSync(new URL('../numerics/vectors.json', import.meta.url), 'utf8')) as {
  kvCache: KvVector[];
  kvCacheNonfinite: { format: 'int8'; headSize: number; x: string[]; error: string }[];
};
const fromHex = (h: string) => f32FromBits(Number.parseInt(h, 16));
const hex = (v: number) => `0x${f32Bits(v).toString(16).padStart(8, '0')}`;

describe('KV cache vectors (numerics/vectors.json kvCache)', () => {
  it('store and read back bit for bit as the code does', () => {
    for (const v of vectors.kvCache) {
      const x = Float32Array.from(v.x, fromHex);
      const row = storeKvRow(v.format, x, v.headSize);
      if (row.format === 'fp16') expect(Array.from(row.halves)).toEqual(v.halves);
      if (row.format === 'int8') {
        expect(Array.from(row.q)).toEqual(v.q);
        expect(Array.from(row.scales, hex)).toEqual(v.scales);
      }
      expect(Array.from(readKvRow(row, v.headSize), hex)).toEqual(v.readBack);
    }
  });

  it('fp16: each read-back value is the nearest binary16, ties to even, beyond 65520 ±Inf (derived without the code)', () => {
    const cases = vectors.kvCache.filter((v) => v.format === 'fp16');
    let ties = 0;
    let subnormals = 0;
    let infinities = 0;
    for (const v of cases) {
      v.x.forEach((h, i) => {
        const x = fromHex(h);
        const half = v.halves![i]!;
        const y = fp16ToFp32(half);
        expect(hex(y)).toBe(v.readBack[i]);
        if (Math.abs(x) >= 65520) {
          expect(y).toBe(Math.sign(x) * Number.POSITIVE_INFINITY);
          infinities++;
          return;
        }
        // both neighbouring binary16 of the same sign (halves are monotone in magnitude) are at least
        // as far; at a tie the even one wins
        const sign = half & 0x8000;
        for (const n of [half - 1, half + 1].filter((m) => m >= sign && m < sign + 0x7c00)) {
          const d = Math.abs(fp16ToFp32(n) - x);
          expect(d).toBeGreaterThanOrEqual(Math.abs(y - x));
          if (n !== half && d === Math.abs(y - x)) {
            expect(half & 1, `tie at ${h}`).toBe(0);
            ties++;
          }
        }
        if (y !== 0 && (half & 0x7c00) === 0) subnormals++;
      });
    }
    expect(ties).toBeGreaterThanOrEqual(3);
    expect(subnormals).toBeGreaterThanOrEqual(2);
    expect(infinities).toBeGreaterThanOrEqual(3);
  });

  it('int8: per head scale fl(max|x| / 127), q the half-away rounding of x·127/max, read back fl(q·scale)', () => {
    const cases = vectors.kvCache.filter((v) => v.format === 'int8');
    let zeroHeads = 0;
    for (const v of cases) {
      const heads = v.x.length / v.headSize;
      expect(v.scales!.length).toBe(heads);
      for (let h = 0; h < heads; h++) {
        const x = v.x.slice(h * v.headSize, (h + 1) * v.headSize).map(fromHex);
        const a = Math.max(...x.map(Math.abs));
        const scale = fromHex(v.scales![h]!);
        if (a === 0 || !Number.isFinite(Math.fround(127 / a))) {
          expect(scale).toBe(0);
          zeroHeads++;
        } else expect(scale).toBe(Math.fround(a / 127));
        x.forEach((xi, j) => {
          const i = h * v.headSize + j;
          const q = v.q![i]!;
          if (scale !== 0) {
            const t = (xi * 127) / a; // exact real quotient up to binary64 rounding
            expect(Math.abs(q - t)).toBeLessThanOrEqual(0.5 + 1e-4);
            expect(Math.abs(q)).toBeLessThanOrEqual(127);
          } else expect(q).toBe(0);
          expect(v.readBack[i]).toBe(hex(Math.fround(q * scale)));
        });
      }
    }
    expect(zeroHeads).toBeGreaterThanOrEqual(2);
    expect(new Set(cases.map((v) => v.headSize))).toEqual(new Set([1, 2, 3, 4, 48]));
  });

  it('int8 refuses NaN and ±Inf with NONFINITE (kvCacheNonfinite); fp16 keeps ±Inf', () => {
    expect(vectors.kvCacheNonfinite.length).toBeGreaterThanOrEqual(3);
    for (const v of vectors.kvCacheNonfinite) {
      const x = Float32Array.from(v.x, fromHex);
      expect(() => storeKvRow('int8', x, v.headSize)).toThrow(
        expect.objectContaining({ code: v.error, message: expect.stringMatching(/int8 KV cache/) }),
      );
      expect(() => kvRoundTrip('int8', x.length, v.headSize)!(x)).toThrow(
        expect.objectContaining({ code: 'NONFINITE' }),
      );
    }
    const inf = Float32Array.of(1, Number.NEGATIVE_INFINITY);
    kvRoundTrip('fp16', 2, 2)!(inf);
    expect(Array.from(inf)).toEqual([1, Number.NEGATIVE_INFINITY]);
  });
});

describe('kvRoundTrip (what the stages store)', () => {
  it('equals read(store(x)) on random rows of each format, in place; fp32 is the identity (undefined)', () => {
    expect(kvRoundTrip('fp32', 16, 8)).toBeUndefined();
    const r = rng(20);
    for (const kv of ['fp16', 'int8'] as const) {
      for (const [kvDim, headSize] of [
        [32, 8],
        [18, 6],
        [96, 48],
        [5, 1],
      ] as const) {
        const round = kvRoundTrip(kv, kvDim, headSize)!;
        for (let c = 0; c < 30; c++) {
          const scale = [1e-3, 1, 300, 7e4][c % 4]!;
          const x = Float32Array.from({ length: kvDim }, () => Math.fround(r.value() * scale));
          if (c % 5 === 0) x.fill(0, 0, headSize); // a zero head
          const expected = readKvRow(storeKvRow(kv, x, headSize), headSize);
          round(x);
          expect(Array.from(x, hex), `${kv} ${kvDim}/${headSize} case ${c}`).toEqual(
            Array.from(expected, hex),
          );
        }
      }
    }
  });

  it('refuses a row that is not whole heads', () => {
    expect(() => kvRoundTrip('int8', 10, 4)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => storeKvRow('fp16', new Float32Array(7), 2)).toThrow(/whole number of heads/);
  });
});

describe('kvBytesPerPosition', () => {
  it('is the bytes of the stored k and v rows of one layer: 8·kv_dim, 4·kv_dim, 2·(kv_dim + 4·n_kv_heads)', () => {
    for (const [kvDim, heads] of [
      [32, 4],
      [288, 6],
      [512, 8],
    ] as const) {
      const x = new Float32Array(kvDim);
      for (const kv of KV_FORMATS) {
        const row = storeKvRow(kv, x, kvDim / heads);
        const bytes =
          row.format === 'fp32'
            ? row.values.byteLength
            : row.format === 'fp16'
              ? row.halves.byteLength
              : row.q.byteLength + row.scales.byteLength;
        expect(kvBytesPerPosition(kv, kvDim, heads), `${kv} ${kvDim}`).toBe(2 * bytes);
      }
    }
    expect(kvBytesPerPosition('int8', 512, 8)).toBe(1088);
  });
});

describe('docs/numerics.md §11 KV cache capacity', () => {
  it('every figure of the table is kvBytesPerPosition of the model shape', () => {
    const doc = readFileSync(new URL('../../../../docs/numerics.md', import.meta.url), 'utf8');
    const section = doc.slice(doc.indexOf('### KV cache capacity'), doc.indexOf('## 12.'));
    const rows = section
      .split('\n')
      .filter((l) => /^\| (stories260K|15M|42M|110M) /.test(l))
      .map((l) =>
        l
          .split('|')
          .slice(1, -1)
          .map((c) => c.trim()),
      );
    expect(rows.length).toBe(12);
    const num = (c: string) => Number(c.replaceAll(',', ''));
    for (const [model, kvDim, layers, kv, perLayer, perModel, ...mb] of rows) {
      const c = MODEL_SHAPES[model === 'stories260K' ? '260K' : (model as '15M')];
      expect(num(kvDim!)).toBe((c.dim * c.nKvHeads) / c.nHeads);
      expect(num(layers!)).toBe(c.nLayers);
      const l = kvBytesPerPosition(kv as 'fp32', num(kvDim!), c.nKvHeads);
      expect([num(perLayer!), num(perModel!)], `${model} ${kv}`).toEqual([l, l * c.nLayers]);
      expect(mb.map(Number)).toEqual(
        [256, 512, 1024].map((n) => Number(((l * c.nLayers * n) / 1e6).toFixed(2))),
      );
    }
  });
});
