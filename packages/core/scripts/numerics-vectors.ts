/**
 * Writes src/numerics/vectors.json: test vectors of docs/numerics.md for the TypeScript and C test suites.
 * Run: npx tsx scripts/numerics-vectors.ts  (the TS tests check the file against the code and against
 * independent derivations, so a stale file fails `npm test`).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expf32, f32Bits, fp16ToFp32, fp32ToFp16 } from '../src/numerics/index.js';
import { quantizedVector, quantizeVector } from '../src/quant/kernels.js';

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

const out = { spec: 'docs/numerics.md', version: 1, exp, fp16ToFp32: fp16, fp32ToFp16: toHalf, activations };
writeFileSync(
  fileURLToPath(new URL('../src/numerics/vectors.json', import.meta.url)),
  `${JSON.stringify(out, null, 1)}\n`,
);
console.log(
  `wrote ${exp.length} exp, ${fp16.length + toHalf.length} fp16 and ${activations.length} activation vectors`,
);
