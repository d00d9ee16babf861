/**
 * IEEE 754 binary16 ⇄ binary32 conversions with integer operations only, so the C firmware can do the
 * same bit for bit. Scales of quantized weights are stored as binary16 (docs/numerics.md §2).
 */

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** binary32 bits of `x` (x is rounded to binary32 first). */
export function f32Bits(x: number): number {
  f32[0] = x;
  return u32[0]!;
}

/** The binary32 value with bit pattern `bits`. */
export function f32FromBits(bits: number): number {
  u32[0] = bits >>> 0;
  return f32[0]!;
}

/** binary16 bits → the exactly equal binary32 value (every binary16 is a binary32). */
export function fp16ToFp32(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exp = (h >> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return f32FromBits(sign | 0x7f800000 | (mant << 13)); // inf, NaN (payload kept)
  if (exp !== 0) return f32FromBits(sign | ((exp + 112) << 23) | (mant << 13)); // normal: rebias 15 → 127
  if (mant === 0) return f32FromBits(sign); // ±0
  // subnormal half: normalise the mantissa
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return f32FromBits(sign | (e << 23) | ((mant & 0x3ff) << 13));
}

/** binary32 → binary16 bits, rounding to nearest, ties to even; overflow → ±inf; NaN stays NaN. */
export function fp32ToFp16(x: number): number {
  const b = f32Bits(x);
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 127 + 15; // rebias
  if (e >= 0x1f) return sign | 0x7c00; // too large: inf
  if (e <= 0) {
    // subnormal (or zero) half: shift the full significand right, then round to nearest even
    if (e < -10) return sign; // below half the smallest subnormal: ±0
    const sig = mant | 0x800000;
    const shift = 14 - e;
    let h = sig >>> shift;
    const rem = sig & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) === 1)) h++; // may carry into the exponent: still correct
  return sign | h;
}
