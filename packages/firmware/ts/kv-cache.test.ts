/**
 * The C KV cache (src/kv_cache.c) against docs/numerics.md §6b: binary16 narrowing, and one row stored and read
 * back in each format through tp-vectors, compared with the shared vectors (vectors.json kvCache) and with §6b
 * written out from @tinypipe/core's own numerics (fp32ToFp16, fp16ToFp32, the activation quantizer).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  f32Bits,
  f32FromBits,
  fp16ToFp32,
  fp32ToFp16,
  quantizedVector,
  quantizeVector,
} from '@tinypipe/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BuiltPrograms, buildPosixBoard } from './build.js';

const vectorsPath = fileURLToPath(new URL('../../core/src/numerics/vectors.json', import.meta.url));
const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

let host: BuiltPrograms;
beforeAll(() => {
  host = buildPosixBoard();
});

/** tp-vectors' answers to `lines`, one per line. */
function ask(lines: string[]): string[] {
  return execFileSync(host.vectors, { input: `${lines.join('\n')}\n`, encoding: 'utf8', maxBuffer: 1 << 26 })
    .trim()
    .split('\n');
}

type Format = 'fp32' | 'fp16' | 'int8';

/** §6b in TS from core's numerics: what tp-vectors' `kv` prints for row x (bit patterns) of head size hs. */
function expectedRow(format: Format, hs: number, bits: number[]): string {
  const x = Float32Array.from(bits, f32FromBits);
  const back = (v: number) => ` ${hex(f32Bits(v))}`;
  // fp32 stores the bits as they are (a signalling NaN too, which a JS number would quieten)
  if (format === 'fp32') return `|${bits.map((b) => ` ${hex(b)}`).join('')}`;
  if (format === 'fp16') {
    const h = [...x].map(fp32ToFp16);
    return `${h.map((v) => `${v} `).join('')}|${h.map((v) => back(fp16ToFp32(v))).join('')}`;
  }
  if (!x.every(Number.isFinite)) return 'NONFINITE';
  const out = quantizedVector(x.length, hs);
  quantizeVector(x, x.length, hs, out);
  const read = [...out.q].map((q, i) => Math.fround(q * out.s[Math.floor(i / hs)]!));
  return `${[...out.q].map((q) => `${q} `).join('')}|${[...out.s].map(back).join('')} |${read.map(back).join('')}`;
}

/** Binary32 bit patterns weighted towards the cases §6b names: ties, subnormals, fp16 overflow, NaN/±Inf. */
const element = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }),
  fc.constantFrom(0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x477fe000, 0x477ff000, 0x47800000),
  fc.constantFrom(0x33800000, 0x33000000, 0x33000001, 0x387fc000, 0x3f801000, 0x3f803000, 0x00000001),
  // around the binary16 range: exponents 2^-26 … 2^17, any mantissa (ties when its low 13 bits are 0x1000)
  fc
    .tuple(fc.integer({ min: 101, max: 144 }), fc.integer({ min: 0, max: 0x7fffff }), fc.boolean())
    .map(([e, m, neg]) => ((neg ? 0x80000000 : 0) | (e << 23) | m) >>> 0),
  fc
    .tuple(fc.integer({ min: 101, max: 144 }), fc.integer({ min: 0, max: 0x3ff }), fc.boolean())
    .map(([e, m, neg]) => ((neg ? 0x80000000 : 0) | (e << 23) | (m << 13) | 0x1000) >>> 0),
);
/** A finite element (int8 rows that must quantize): NaN and ±Inf patterns replaced by zero. */
const finite = element.map((b) => (((b >>> 23) & 0xff) === 0xff ? 0 : b));

describe('C binary16 narrowing (tp_fp32_to_fp16) equals @tinypipe/core fp32ToFp16', () => {
  it('the shared vectors (fp32ToFp16) and 5,000 bit patterns: ties to even, subnormals, overflow to ±Inf, NaN', () => {
    const v = JSON.parse(readFileSync(vectorsPath, 'utf8')) as {
      fp32ToFp16: { f32: string; half: number }[];
    };
    expect(v.fp32ToFp16.length).toBeGreaterThan(5);
    expect(ask(v.fp32ToFp16.map((c) => `f16n ${c.f32}`))).toEqual(v.fp32ToFp16.map((c) => String(c.half)));
    const bits = fc.sample(element, { numRuns: 5000, seed: 20 });
    expect(ask(bits.map((b) => `f16n ${hex(b)}`))).toEqual(
      bits.map((b) => String(fp32ToFp16(f32FromBits(b)))),
    );
  });
});

describe('C KV cache rows: stored and read back as docs/numerics.md §6b says', () => {
  it('the shared vectors (vectors.json kvCache, kvCacheNonfinite): stored form and read-back bits', () => {
    const v = JSON.parse(readFileSync(vectorsPath, 'utf8')) as {
      kvCache: {
        format: Format;
        headSize: number;
        x: string[];
        halves?: number[];
        q?: number[];
        scales?: string[];
        readBack: string[];
      }[];
      kvCacheNonfinite: { format: Format; headSize: number; x: string[]; error: string }[];
    };
    const cases = [...v.kvCache, ...v.kvCacheNonfinite];
    expect(v.kvCache.filter((c) => c.format === 'fp16').length).toBeGreaterThan(2);
    expect(v.kvCache.filter((c) => c.format === 'int8').length).toBeGreaterThan(2);
    expect(v.kvCacheNonfinite.length).toBeGreaterThan(0);
    const expected = cases.map((c) => {
      if ('error' in c) return c.error;
      const back = `|${c.readBack.map((b) => ` ${b}`).join('')}`;
      if (c.format === 'fp16') return `${(c.halves ?? []).map((h) => `${h} `).join('')}${back}`;
      return `${(c.q ?? []).map((q) => `${q} `).join('')}|${(c.scales ?? []).map((s) => ` ${s}`).join('')} ${back}`;
    });
    expect(ask(cases.map((c) => `kv ${c.format} ${c.headSize} ${c.x.join(' ')}`))).toEqual(expected);
  });

  for (const format of ['fp32', 'fp16', 'int8'] as const) {
    it(`${format}: 1,500 rows of 1–4 kv heads, head sizes 2–64 (the read-back is what attention multiplies)`, () => {
      const rows = fc.sample(
        fc
          .tuple(fc.integer({ min: 1, max: 4 }), fc.constantFrom(2, 4, 6, 8, 16, 48, 64))
          .chain(([heads, hs]) =>
            fc.record({
              hs: fc.constant(hs),
              x: fc.array(
                format === 'int8'
                  ? fc.oneof({ weight: 12, arbitrary: finite }, { weight: 1, arbitrary: element })
                  : element,
                {
                  minLength: heads * hs,
                  maxLength: heads * hs,
                },
              ),
            }),
          ),
        { numRuns: 1500, seed: 6 },
      );
      const answers = ask(rows.map((r) => `kv ${format} ${r.hs} ${r.x.map(hex).join(' ')}`));
      expect(answers).toEqual(rows.map((r) => expectedRow(format, r.hs, r.x)));
      // the generator reached the cases that matter
      if (format === 'int8') expect(answers.filter((a) => a === 'NONFINITE').length).toBeGreaterThan(10);
      if (format === 'fp16') expect(answers.some((a) => / 31744 | 64512 /.test(` ${a}`))).toBe(true);
    });
  }

  it('int8: a zero head gets scale 0 and zeros; a head below 3.7e-37 counts as zero (§3)', () => {
    const rows = [
      { hs: 4, x: [0, 0, 0, 0, 0x3f800000, 0xbf800000, 0x3f000000, 0] },
      { hs: 2, x: [0x00000001, 0x80000002, 0x40400000, 0x40000000] },
    ];
    const answers = ask(rows.map((r) => `kv int8 ${r.hs} ${r.x.map(hex).join(' ')}`));
    expect(answers).toEqual(rows.map((r) => expectedRow('int8', r.hs, r.x)));
    expect(answers[0]).toMatch(/^0 0 0 0 127 -127 64 0 \| 0x00000000 0x3c010204 \| 0x00000000 /);
    expect(answers[1]).toMatch(/^0 0 127 85 \| 0x00000000 /);
  });
});
