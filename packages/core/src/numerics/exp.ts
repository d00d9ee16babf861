/**
 * `expf32`: e^x in binary32 from binary32 + - * and integer operations only (docs/numerics.md §4), so the
 * TypeScript engine and the C firmware produce the same bits on every machine. Not libm's expf.
 *
 *   x = k·ln2 + r,  k = nearest integer to x·log2(e),  |r| ≲ ln2/2
 *   r = (x − k·LN2_HI) − k·LN2_LO        (LN2_HI has 16 significant bits: k·LN2_HI is exact for |k| ≤ 255)
 *   e^r ≈ 1 + r(1 + r(1/2 + r(1/6 + r(1/24 + r(1/120 + r/720)))))   (Horner, binary32 at every step)
 *   e^x = e^r · 2^k                       (2^k built from exponent bits; two steps for subnormal results)
 */
import { f32FromBits } from './fp16.js';
import { roundHalfAway } from './round.js';

const f = Math.fround;

/** Above this, e^x overflows binary32: the result is +inf. (ln(FLT_MAX) = 88.7228391…) */
export const EXP_OVERFLOW = f(88.72283935546875);
/** Below this, e^x rounds to 0 even as a subnormal. (ln(2^-150) = −103.972…) */
export const EXP_UNDERFLOW = f(-103.97208404541016);

export const LOG2E = f(Math.LOG2E);
export const LN2_HI = f(0.693145751953125); // 0x3F317200
export const LN2_LO = f(1.428606765330187e-6); // 0x35BFBE8E
/** Horner coefficients c6 … c1 of the degree-6 Taylor polynomial of e^r (c0 = 1). */
export const EXP_POLY: readonly number[] = [f(1 / 720), f(1 / 120), f(1 / 24), f(1 / 6), f(0.5), f(1)];

/** 2^k as a binary32, for −126 ≤ k ≤ 127. */
function pow2(k: number): number {
  return f32FromBits((k + 127) << 23);
}

/** e^x in binary32, bit-exact with the firmware's `tp_expf`. */
export function expf32(x: number): number {
  x = f(x);
  if (Number.isNaN(x)) return x;
  if (x > EXP_OVERFLOW) return Number.POSITIVE_INFINITY;
  if (x < EXP_UNDERFLOW) return 0;

  // k = round half away from zero of x·log2(e)
  const t = f(x * LOG2E);
  const k = roundHalfAway(t);
  const r = f(f(x - f(k * LN2_HI)) - f(k * LN2_LO));

  let p = EXP_POLY[0]!;
  for (let i = 1; i < EXP_POLY.length; i++) p = f(f(p * r) + EXP_POLY[i]!);
  p = f(f(p * r) + 1);

  if (k > 127) return f(f(p * pow2(127)) * pow2(k - 127)); // may overflow to +inf
  if (k < -126) return f(f(p * pow2(k + 126)) * pow2(-126)); // subnormal result: one final rounding
  return f(p * pow2(k));
}
