/**
 * The sliced sampler (docs/numerics.md §10b): temperature, softmax and top-p defined from per-slice
 * results, so a classifier split over boards by vocabulary rows samples without sending its logits, and
 * the token is the one the unsplit definition gives — bit for bit, by definition: every sum is exact
 * (order-free), the nucleus is a set of whole buckets of `e` values, and the draw walks index order.
 *
 * - `SlicedSampler.sample(logits)`: the definition on the whole vocabulary (the unsplit run).
 * - `SliceSampling`: what a board holding rows `[from, from + n)` answers (max, histogram, draw).
 * - `SlicedSampler.sampleSlices(ports)`: the host's side of the rounds, over any slices.
 */

import { TinypipeError } from '@tinypipe/protocol';
import { expf32 } from '../numerics/exp.js';
import { f32Bits } from '../numerics/fp16.js';
import { Xorshift64Star } from './rng.js';
import { type SamplerOptions, validateSamplerOptions } from './sampler.js';

/** A bucket of `e` values: the top 12 bits of its binary32 pattern (sign, exponent, 3 mantissa bits). */
export const BUCKET_SHIFT = 20;
/** The bucket of `e = 1` (`0x3F800000 >> 20`): no `e` of §10b lies above it. */
export const TOP_BUCKET = 0x3f8;

export function bucketOf(e: number): number {
  return f32Bits(e) >>> BUCKET_SHIFT;
}

/** A binary32 `v ≥ 0` times 2^149, exactly (every binary32 is a multiple of 2^−149). */
export function units149(v: number): bigint {
  const b = f32Bits(v);
  const exp = (b >>> 23) & 0xff;
  const mant = b & 0x7fffff;
  if (exp === 0) return BigInt(mant);
  return BigInt(mant | 0x800000) << BigInt(exp - 1);
}

/** The unit of a bucket's mass in §10b's histogram: `2^(max(exponent, 1) − 1)` units of 2^−149. */
export function bucketUnitShift(bucket: number): bigint {
  return BigInt(Math.max(bucket >>> 3, 1) - 1);
}

/** A slice's largest scaled logit and its first (global) index. */
export interface SliceMax {
  value: number;
  index: number;
}

/**
 * A slice's exact bucket masses (units of 2^−149), from bucket `top` down: `masses[i]` is bucket
 * `top − i`; `rest` is the mass of every bucket below `top − masses.length + 1`.
 */
export interface SliceHistogram {
  top: number;
  masses: bigint[];
  rest: bigint;
}

/** What the host asks a slice, however it reaches it (a board over a link, or in memory). */
export interface SlicePort {
  /** Round 1: the slice's max (its logits divided by the temperature, unless greedy). */
  max(): Promise<SliceMax>;
  /** Round 2: the histogram, given the global max; `below`: only buckets below it (a later round). */
  histogram(max: number, below?: number): Promise<SliceHistogram>;
  /** Round 3: the token where the exact running mass of the nucleus crosses `target` (units 2^−173). */
  draw(max: number, bucket: number, target: bigint): Promise<number>;
}

const nonFinite = (what: string) =>
  new TinypipeError('NONFINITE', `sampling: ${what} (docs/numerics.md §10a).`, { details: { what } });

/** One slice of the classifier: rows `[from, from + y.length)` of the vocabulary. */
export class SliceSampling {
  /** The scaled logits (temperature applied), kept between rounds. */
  readonly y: Float32Array;
  readonly #e: Float32Array;
  #eOf = Number.NaN;

  /**
   * @param logits this slice's logits (copied); NONFINITE when a logit or logit / temperature is not finite
   * @param topp what `histogram` sends down to: its own nucleus, one binade more (§10b)
   */
  constructor(
    readonly from: number,
    logits: Float32Array,
    readonly temperature: number,
    readonly topp: number,
  ) {
    const t = Math.fround(temperature);
    this.y = new Float32Array(logits.length);
    for (let i = 0; i < logits.length; i++) {
      const l = logits[i]!;
      if (!Number.isFinite(l)) throw nonFinite('the logits hold NaN or an infinity');
      this.y[i] = t === 0 ? l : Math.fround(l / t);
      if (!Number.isFinite(this.y[i]!))
        throw nonFinite(
          `logits / temperature ${t} overflows binary32: use a larger temperature, or 0 for greedy`,
        );
    }
    this.#e = new Float32Array(logits.length);
  }

  max(): SliceMax {
    let best = 0;
    for (let i = 1; i < this.y.length; i++) if (this.y[i]! > this.y[best]!) best = i;
    return { value: this.y[best]!, index: this.from + best };
  }

  /** e_j = expf32(y_j − max). */
  #exps(max: number): Float32Array {
    if (this.#eOf !== max) {
      for (let i = 0; i < this.y.length; i++) this.#e[i] = expf32(Math.fround(this.y[i]! - max));
      this.#eOf = max;
    }
    return this.#e;
  }

  /**
   * Exact bucket masses from the slice's top bucket (or from `below − 1`) down to one binade (8 buckets)
   * under its own nucleus (the buckets whose mass exceeds topp of the slice's), the rest as one sum.
   */
  histogram(max: number, below = TOP_BUCKET + 1): SliceHistogram {
    const e = this.#exps(max);
    const byBucket = new Map<number, bigint>(); // exact, units 2^−149
    let total = 0n;
    for (const v of e) {
      const k = bucketOf(v);
      if (k >= below) continue;
      const u = units149(v);
      byBucket.set(k, (byBucket.get(k) ?? 0n) + u);
      total += u;
    }
    let top = -1;
    for (const k of byBucket.keys()) top = Math.max(top, k);
    if (top < 0) return { top: 0, masses: [], rest: 0n }; // nothing below `below`
    const need = mulF32(total, this.topp); // topp · total, units 2^−(149+149)
    const masses: bigint[] = [];
    let above = 0n;
    let own = -1; // the slice's own nucleus bucket
    for (let k = top; k >= 0; k--) {
      const m = byBucket.get(k) ?? 0n;
      masses.push(m >> bucketUnitShift(k));
      above += m;
      if (own < 0 && above << 149n > need) own = k;
      if (own >= 0 && k <= own - 8) break;
    }
    return { top, masses, rest: total - above };
  }

  /** The first row (index order) of the nucleus `bucket ≥ bucket` whose exact running mass × 2^24 exceeds `target`. */
  draw(max: number, bucket: number, target: bigint): number {
    const e = this.#exps(max);
    let run = 0n;
    let last = -1;
    for (let i = 0; i < e.length; i++) {
      if (bucketOf(e[i]!) < bucket) continue;
      run += units149(e[i]!);
      last = i;
      if (run << 24n > target) return this.from + i;
    }
    // the host sends a target below this slice's nucleus mass; a lying host gets the slice's last member
    return this.from + Math.max(last, 0);
  }

  /** This slice as the host sees it. */
  port(): SlicePort {
    return {
      max: async () => this.max(),
      histogram: async (max, below) => this.histogram(max, below),
      draw: async (max, bucket, target) => this.draw(max, bucket, target),
    };
  }
}

/** `x · f` with `f` a binary32 in [0, 1]: exact, in units 2^−149 times those of `x`. */
function mulF32(x: bigint, f: number): bigint {
  return x * units149(f);
}

/** What the host learned of the rounds (for the link accounting and the tests). */
export interface SlicedRounds {
  /** Histogram rounds (1, or more when the slices' own nuclei differ by more than a binade). */
  histograms: number;
  /** Buckets the slices sent, summed. */
  buckets: number;
}

/**
 * §10b: greedy is the first maximum of the logits; otherwise temperature, softmax and top-p over exact
 * sums and whole buckets, the draw in index order. `sample` (whole logits) and `sampleSlices` (the
 * slices' answers) give the same token for the same seed and logits, however the rows are split.
 */
export class SlicedSampler {
  readonly vocabSize: number;
  readonly temperature: number;
  readonly topp: number;
  readonly rng: Xorshift64Star;
  /** The last `sampleSlices`' rounds. */
  lastRounds: SlicedRounds = { histograms: 0, buckets: 0 };

  constructor(options: Omit<SamplerOptions, 'exp'>) {
    validateSamplerOptions(options);
    this.vocabSize = options.vocabSize;
    this.temperature = Math.fround(options.temperature);
    this.topp = Math.fround(options.topp);
    this.rng = new Xorshift64Star(options.seed);
  }

  /** Whether top-p prunes (topp strictly inside (0, 1)); else the nucleus is every bucket. */
  get #pruning(): boolean {
    return this.topp > 0 && this.topp < 1;
  }

  /** The definition on the whole vocabulary (the unsplit run): written directly, sharing no rounds. */
  sample(logits: Float32Array): number {
    const n = this.vocabSize;
    if (logits.length < n)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `logits has ${logits.length} values, the sampler expects ${n}`,
      );
    const s = new SliceSampling(0, logits.subarray(0, n), this.temperature, this.topp);
    const { value: max, index } = s.max();
    if (this.temperature === 0) return index;
    const e = Array.from(s.y, (y) => expf32(Math.fround(y - max)));
    const coin = this.rng.nextF32();
    const mass = new Map<number, bigint>();
    let total = 0n;
    for (const v of e) {
      mass.set(bucketOf(v), (mass.get(bucketOf(v)) ?? 0n) + units149(v));
      total += units149(v);
    }
    let bucket = 0;
    if (this.#pruning) {
      const need = mulF32(total, this.topp);
      let above = 0n;
      for (let k = TOP_BUCKET; k >= 0; k--) {
        above += mass.get(k) ?? 0n;
        if (above << 149n > need) {
          bucket = k;
          break;
        }
      }
    }
    let nucleus = 0n;
    for (const [k, m] of mass) if (k >= bucket) nucleus += m;
    const target = nucleus * BigInt(coin * 16777216);
    let run = 0n;
    for (let i = 0; i < n; i++) {
      if (bucketOf(e[i]!) < bucket) continue;
      run += units149(e[i]!);
      if (run << 24n > target) return i;
    }
    throw new Error('unreachable: the nucleus holds e = 1 and coin < 1');
  }

  /**
   * The host's side over slices in vocabulary order (their rows consecutive from 0): each slice's max; the
   * greedy token, or the global max, the histograms (more rounds only when they do not reach the nucleus),
   * the nucleus bucket, then one draw from the slice where the running mass crosses the coin.
   */
  async sampleSlices(ports: readonly SlicePort[]): Promise<number> {
    const maxes = await Promise.all(ports.map((p) => p.max()));
    let best = maxes[0]!;
    for (const m of maxes.slice(1)) if (m.value > best.value) best = m; // ties: the earlier slice, lower rows
    if (this.temperature === 0) return best.index;
    const max = best.value;
    const coin = this.rng.nextF32();
    const rounds: SlicedRounds = { histograms: 0, buckets: 0 };
    // per slice: exact mass of each bucket received (units 2^−149), and the mass below them
    const got = ports.map(() => ({ mass: new Map<number, bigint>(), floor: TOP_BUCKET + 1, rest: 0n }));
    const ask = async (i: number) => {
      const h = await ports[i]!.histogram(max, got[i]!.floor > TOP_BUCKET ? undefined : got[i]!.floor);
      const g = got[i]!;
      for (const [j, m] of h.masses.entries()) g.mass.set(h.top - j, m << bucketUnitShift(h.top - j));
      g.floor = h.masses.length === 0 ? 0 : h.top - h.masses.length + 1;
      g.rest = h.rest;
      rounds.buckets += h.masses.length;
    };
    await Promise.all(ports.map((_, i) => ask(i)));
    rounds.histograms++;
    const totalOf = () =>
      got.reduce((a, g) => a + g.rest + [...g.mass.values()].reduce((x, y) => x + y, 0n), 0n);
    const total = totalOf();
    const need = mulF32(total, this.topp);
    let bucket = 0;
    if (this.#pruning) {
      for (;;) {
        // the highest bucket whose mass and above exceeds topp · total, over the buckets every slice sent
        const known = Math.max(...got.map((g) => g.floor));
        let above = 0n;
        let found = -1;
        for (let k = TOP_BUCKET; k >= known; k--) {
          for (const g of got) above += g.mass.get(k) ?? 0n;
          if (above << 149n > need) {
            found = k;
            break;
          }
        }
        if (found >= 0) {
          bucket = found;
          break;
        }
        // not reached yet: the slices that stopped highest send the buckets under what they sent
        await Promise.all(got.map((g, i) => (g.floor === known && known > 0 ? ask(i) : undefined)));
        rounds.histograms++;
        if (known === 0) break; // unreachable while topp < 1: every bucket is in
      }
    }
    const nucleusOf = (g: (typeof got)[number]) => {
      let m = 0n;
      for (const [k, v] of g.mass) if (k >= bucket) m += v;
      // below every bucket sent: only when the nucleus is every bucket (bucket 0)
      return bucket === 0 ? m + g.rest : m;
    };
    const masses = got.map(nucleusOf);
    const nucleus = masses.reduce((a, b) => a + b, 0n);
    const target = nucleus * BigInt(coin * 16777216);
    this.lastRounds = rounds;
    let before = 0n;
    for (const [i, m] of masses.entries()) {
      if ((before + m) << 24n > target) return ports[i]!.draw(max, bucket, target - (before << 24n));
      before += m;
    }
    throw new Error('unreachable: the nucleus holds e = 1 and coin < 1');
  }
}
