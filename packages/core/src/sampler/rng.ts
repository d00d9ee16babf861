/**
 * llama2.c's random number generator: xorshift64* (Marsaglia's xorshift with a multiplicative output,
 * as in run.c's `random_u32` / `random_f32`), on an unsigned 64-bit state. The firmware uses the same.
 */
const MASK64 = (1n << 64n) - 1n;
const MULTIPLIER = 0x2545f4914f6cdd1dn;

export class Xorshift64Star {
  #state: bigint;

  /** @param seed the initial 64-bit state (reduced modulo 2^64; run.c seeds with the `-s` value) */
  constructor(seed: bigint | number) {
    this.#state = BigInt.asUintN(64, BigInt(seed));
  }

  /** The current 64-bit state. */
  get state(): bigint {
    return this.#state;
  }

  /** run.c `random_u32`: advance the state, return the high 32 bits of state × 0x2545F4914F6CDD1D. */
  nextU32(): number {
    let s = this.#state;
    s ^= s >> 12n;
    s = (s ^ (s << 25n)) & MASK64;
    s ^= s >> 27n;
    this.#state = s;
    return Number(((s * MULTIPLIER) & MASK64) >> 32n);
  }

  /** run.c `random_f32`: a float in [0, 1) with 24 random bits, `(u32 >> 8) / 16777216.0f` (exact). */
  nextF32(): number {
    return (this.nextU32() >>> 8) / 16777216;
  }
}
