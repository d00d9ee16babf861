/**
 * Writes src/numerics/vectors.json: test vectors of docs/numerics.md for the TypeScript and C test suites.
 * Run: npx tsx scripts/numerics-vectors.ts && npx biome format --write src/numerics/vectors.json (the TS
 * tests check the file against the code and against independent derivations, so a stale file fails
 * `npm test`).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expf32, f32Bits, fp16ToFp32, fp32ToFp16 } from '../src/numerics/index.js';
import { quantizedVector, quantizeVector } from '../src/quant/kernels.js';
import { readKvRow, storeKvRow } from '../src/quant/kv-format.js';

const hex = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
const fromHex = (h: string) => {
  const b = new Uint32Array([Number.parseInt(h, 16)]);
  return new Float32Array(b.buffer)[0]!;
};

const expInputs = [
  '0x00000000',
  '0x80000000',
  '0x3f800000',
  '0xbf800000',
  '0x40000000',
  '0x41200000',
  '0xc1200000',
  '0x3f000000',
  '0x42b17218',
  '0x42b17219',
  '0x42b00000',
  '0xc2aeac50',
  '0xc2b00000',
  '0xc2c80000',
  '0xc2cff1b5',
  '0xc2cff1b6',
  '0xff800000',
  '0x7f800000',
  '0x7fc00000',
  '0x33d6bf95',
  '0xb3d6bf95',
  '0x3eb17218',
  '0xbeb17218',
  '0xc0a00000',
];
const exp = expInputs.map((x) => ({ x, y: hex(f32Bits(expf32(fromHex(x)))) }));

const fp16 = [0, 1, 0x3ff, 0x400, 0x3c00, 0x3555, 0x7bff, 0x7c00, 0xfc00, 0x8001, 0xc000].map((h) => ({
  half: h,
  f32: hex(f32Bits(fp16ToFp32(h))),
}));
const toHalf = [
  '0x3f800000',
  '0x33800000',
  '0x33000000',
  '0x387fc000',
  '0x477fe000',
  '0x477ff000',
  '0x3f801000',
  '0x3f803000',
  '0x00000001',
].map((x) => ({ f32: x, half: fp32ToFp16(fromHex(x)) }));

const actInputs: number[][] = [
  [0, 0, 0, 0],
  [1, -1, 0.5, -0.25],
  [0.1, 0.2, 0.3, 127.5, -3.75],
  Array.from({ length: 37 }, (_, i) => Math.fround(Math.sin(i * 1.7) * (i + 1))),
];
const activations = actInputs.map((values) => {
  const x = Float32Array.from(values);
  const v = quantizedVector(x.length, 32);
  quantizeVector(x, x.length, 32, v);
  return {
    groupSize: 32,
    x: Array.from(x, (f) => hex(f32Bits(f))),
    q: Array.from(v.q),
    scales: Array.from(v.s, (s) => hex(f32Bits(s))),
  };
});

// §6b KV cache formats: a row of kv_dim = n_kv_heads · head_size values stored and read back
const f32s = (values: number[]) => Float32Array.from(values);
const kvInputs: { format: 'fp16' | 'int8'; headSize: number; x: Float32Array }[] = [
  // fp16: exact halves, ties to even (1 + 2^-11 → 1, 1 + 3·2^-11 → 1 + 2^-9), subnormal halves and
  // their ties (2^-25 → 0, 3·2^-25 → 2^-23), below half the smallest (→ ±0), 65504 kept, 65519.99
  // down, 65520 (the tie) and 1e5 to ±Inf, ±Inf, −0
  {
    format: 'fp16',
    headSize: 4,
    x: f32s([1, -2.5, 1 + 2 ** -11, 1 + 3 * 2 ** -11, 2 ** -24, 2 ** -25, 3 * 2 ** -25, -(2 ** -26)]),
  },
  {
    format: 'fp16',
    headSize: 4,
    x: f32s([65504, 65519.99, 65520, -1e5, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 0.1]),
  },
  { format: 'fp16', headSize: 3, x: f32s([6.1e-5, -6.1e-5, Math.PI, 1e-8, -1234.567, 2 ** -14]) },
  // int8: one group per kv head; a zero head between two others, a head below 3.7e-37 (scale 0), a
  // rounding tie (x · inv = 0.5 → 1), ±max → ±127, short head sizes (1, 2, 3) and 48 (stories15M)
  { format: 'int8', headSize: 4, x: f32s([1, -1, 0.5, 0.25, 0, 0, 0, 0, 127, 63.5, -127, 0.5]) },
  { format: 'int8', headSize: 2, x: f32s([1e-37, -2e-37, 3e38, -3e38, -0, 2 ** -149]) },
  { format: 'int8', headSize: 3, x: f32s([0.1, 0.2, 0.3, 1, 2, 3, -5, 4, 2.5]) },
  { format: 'int8', headSize: 1, x: f32s([0.7, -3, 0]) },
  {
    format: 'int8',
    headSize: 48,
    x: Float32Array.from({ length: 96 }, (_, i) => Math.sin(i * 0.37) * (i % 48 === 7 ? 40 : 1 + i / 10)),
  },
];
const kvCache = kvInputs.map(({ format, headSize, x }) => {
  const row = storeKvRow(format, x, headSize);
  return {
    format,
    headSize,
    x: Array.from(x, (v) => hex(f32Bits(v))),
    ...(row.format === 'fp16' ? { halves: Array.from(row.halves) } : {}),
    ...(row.format === 'int8'
      ? { q: Array.from(row.q), scales: Array.from(row.scales, (v) => hex(f32Bits(v))) }
      : {}),
    readBack: Array.from(readKvRow(row, headSize), (v) => hex(f32Bits(v))),
  };
});
// int8 refuses NaN and ±Inf (§3a): NONFINITE
const kvNonfinite = [
  [1, Number.NaN, 2, 3],
  [0, 0, Number.POSITIVE_INFINITY, 1],
  [0, 0, 1, Number.NEGATIVE_INFINITY],
].map((x) => ({ format: 'int8', headSize: 2, x: x.map((v) => hex(f32Bits(v))), error: 'NONFINITE' }));

const out = {
  spec: 'docs/numerics.md',
  version: 1,
  exp,
  fp16ToFp32: fp16,
  fp32ToFp16: toHalf,
  activations,
  kvCache,
  kvCacheNonfinite: kvNonfinite,
};
writeFileSync(
  fileURLToPath(new URL('../src/numerics/vectors.json', import.meta.url)),
  `${JSON.stringify(out, null, 1)}\n`,
);
console.log(
  `wrote ${exp.length} exp, ${fp16.length + toHalf.length} fp16, ${activations.length} activation and ${kvCache.length + kvNonfinite.length} KV cache vectors`,
);
