/**
 * llama2.c's sampler, reproduced exactly (run.c: sample, sample_argmax, sample_mult, sample_topp),
 * binary32 arithmetic emulated with Math.fround.
 */

import { TinypipeError } from '@tinypipe/protocol';
import { expf32 } from '../numerics/exp.js';
import { Xorshift64Star } from './rng.js';

export interface SamplerOptions {
  vocabSize: number;
  /** 0 = greedy (argmax); otherwise logits are divided by it before the softmax. Finite, >= 0. */
  temperature: number;
  /** Nucleus threshold in [0, 1]; 0 or 1 sample from the whole distribution. */
  topp: number;
  /** RNG seed: a non-negative integer (number up to 2^53 - 1, or bigint, taken modulo 2^64). */
  seed: number | bigint;
  /**
   * The softmax's exp: 'platform' (Math.exp rounded to binary32, as run.c with glibc — the goldens) or
   * 'spec' (docs/numerics.md's expf32, which the firmware's sampler uses: identical on host and boards).
   * Default 'platform'.
   */
  exp?: 'platform' | 'spec';
}

/** Validates sampling options (also used by `generate` before any work starts). */
export function validateSamplerOptions(o: SamplerOptions): void {
  if (!Number.isSafeInteger(o.vocabSize) || o.vocabSize <= 0) {
    throw new TinypipeError('INVALID_ARGUMENT', `vocabSize must be a positive integer, got ${o.vocabSize}`);
  }
  if (!Number.isFinite(o.temperature) || o.temperature < 0) {
    throw new TinypipeError(
      'BAD_TEMPERATURE',
      `temperature must be a finite number >= 0 (0 = greedy), got ${o.temperature}`,
      {
        details: { temperature: o.temperature },
      },
    );
  }
  if (!(o.topp >= 0 && o.topp <= 1)) {
    throw new TinypipeError('BAD_TOPP', `topp must be in [0, 1] (0 or 1 disable top-p), got ${o.topp}`, {
      details: { topp: o.topp },
    });
  }
  const seedOk = typeof o.seed === 'bigint' ? o.seed >= 0n : Number.isSafeInteger(o.seed) && o.seed >= 0;
  if (!seedOk)
    throw new TinypipeError('INVALID_ARGUMENT', `seed must be a non-negative integer, got ${o.seed}`);
}

/** Picks the next token from logits the way llama2.c's run.c does, for any seed. */
export class Sampler {
  readonly vocabSize: number;
  /** As run.c stores them: binary32. */
  readonly temperature: number;
  readonly topp: number;
  readonly rng: Xorshift64Star;
  readonly exp: 'platform' | 'spec';
  /** (vocab_size) candidate indices for top-p, allocated once */
  readonly #candidates: Int32Array;

  constructor(options: SamplerOptions) {
    validateSamplerOptions(options);
    this.vocabSize = options.vocabSize;
    this.temperature = Math.fround(options.temperature);
    this.topp = Math.fround(options.topp);
    this.rng = new Xorshift64Star(options.seed);
    this.exp = options.exp ?? 'platform';
    this.#candidates = new Int32Array(options.vocabSize);
  }

  /**
   * The next token. Like run.c, this overwrites `logits` (vocab_size) with the probabilities when
   * temperature > 0.
   */
  sample(logits: Float32Array): number {
    const n = this.vocabSize;
    if (logits.length < n) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `logits has ${logits.length} values, the sampler expects ${n}`,
      );
    }
    // docs/numerics.md §10a: non-finite logits, or logits / temperature overflowing, end the request before
    // the RNG moves (the firmware answers TP_E_NONFINITE)
    if (!allFinite(logits, n)) throw nonFiniteLogits('the logits hold NaN or an infinity');
    if (this.temperature === 0) return argmax(logits, n);
    for (let i = 0; i < n; i++) logits[i] = Math.fround(logits[i]! / this.temperature);
    if (!allFinite(logits, n)) {
      throw nonFiniteLogits(
        `logits / temperature ${this.temperature} overflows binary32: use a larger temperature, or 0 for greedy`,
      );
    }
    softmaxF32(logits, n, this.exp === 'spec' ? expf32 : platformExp);
    const coin = this.rng.nextF32();
    if (this.topp <= 0 || this.topp >= 1) return sampleMult(logits, n, coin);
    return this.#sampleTopp(logits, n, coin);
  }

  /** run.c `sample_topp`: the smallest set of most likely tokens whose mass exceeds topp. */
  #sampleTopp(probs: Float32Array, n: number, coin: number): number {
    const cutoff = Math.fround(Math.fround(1 - this.topp) / (n - 1));
    const idx = this.#candidates;
    let n0 = 0;
    for (let i = 0; i < n; i++) if (probs[i]! >= cutoff) idx[n0++] = i;
    // No token reaches the cutoff (a near-uniform distribution, or n = 1; run.c reads index[-1]): every token
    // is a candidate — the cutoff only prunes, top-p itself is defined on the whole vocabulary (§10a).
    if (n0 === 0) for (let i = 0; i < n; i++) idx[n0++] = i;
    // run.c sorts with qsort by descending probability; glibc's qsort is a merge sort here, so equal
    // probabilities keep index order — a stable sort does the same.
    const sorted = idx.subarray(0, n0).sort((a, b) => probs[b]! - probs[a]!);

    let cumulative = 0;
    let last = n0 - 1; // if rounding keeps the sum <= topp, consider every candidate
    for (let i = 0; i < n0; i++) {
      cumulative = Math.fround(cumulative + probs[sorted[i]!]!);
      if (cumulative > this.topp) {
        last = i;
        break;
      }
    }
    const r = Math.fround(coin * cumulative);
    let cdf = 0;
    for (let i = 0; i <= last; i++) {
      cdf = Math.fround(cdf + probs[sorted[i]!]!);
      if (r < cdf) return sorted[i]!;
    }
    return sorted[last]!;
  }
}

const F32_MAX = 3.4028234663852886e38;

function allFinite(x: Float32Array, n: number): boolean {
  for (let i = 0; i < n; i++) if (!(Math.abs(x[i]!) <= F32_MAX)) return false;
  return true;
}

function nonFiniteLogits(what: string): TinypipeError {
  return new TinypipeError('NONFINITE', `sampling: ${what} (docs/numerics.md §10a).`, { details: { what } });
}

/** Index of the first maximum. */
export function argmax(x: Float32Array, n = x.length): number {
  let best = 0;
  let max = x[0]!;
  for (let i = 1; i < n; i++) {
    if (x[i]! > max) {
      max = x[i]!;
      best = i;
    }
  }
  return best;
}

/**
 * run.c `softmax` in binary32: subtract the max, exp, sum in index order, divide. `exp` is the platform's
 * (Math.exp rounded to binary32); glibc's expf may differ from it by one ulp on rare inputs — the goldens
 * tolerate that. (The quantized engine uses its own exactly specified exp instead; docs/numerics.md.)
 */
const platformExp = (v: number) => Math.fround(Math.exp(v));

export function softmaxF32(x: Float32Array, n = x.length, exp: (v: number) => number = platformExp): void {
  let max = x[0]!;
  for (let i = 1; i < n; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = exp(Math.fround(x[i]! - max));
    x[i] = e;
    sum = Math.fround(sum + e);
  }
  for (let i = 0; i < n; i++) x[i] = Math.fround(x[i]! / sum);
}

/** run.c `sample_mult`: the first index whose running fp32 cdf exceeds the coin. */
function sampleMult(probs: Float32Array, n: number, coin: number): number {
  let cdf = 0;
  for (let i = 0; i < n; i++) {
    cdf = Math.fround(cdf + probs[i]!);
    if (coin < cdf) return i;
  }
  return n - 1;
}
