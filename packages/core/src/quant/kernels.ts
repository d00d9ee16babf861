/**
 * The quantized kernels of docs/numerics.md §3–§6, in binary32 (Math.fround after every operation).
 * The firmware's `kernels/ansi` are the same functions in C.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { fp16ToFp32 } from '../numerics/fp16.js';
import { roundHalfAway } from '../numerics/round.js';
import { unpackInts } from './quantize.js';
import type { QuantTensor } from './types.js';

const f = Math.fround;

/**
 * A quantized matrix ready for the host kernels: int4 unpacked to one int8 per value and binary16
 * scales widened to binary32. Both conversions are exact, so results are those of the packed tensor.
 */
export interface PreparedMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly groupSize: number;
  /** ⌈cols / groupSize⌉ */
  readonly groups: number;
  /** (rows, cols) weight integers */
  readonly q: Int8Array;
  /** (rows, groups) weight scales */
  readonly s: Float32Array;
}

export function prepareMatrix(t: QuantTensor): PreparedMatrix {
  const groups = Math.ceil(t.cols / t.groupSize);
  const s = new Float32Array(t.rows * groups);
  for (let i = 0; i < s.length; i++) s[i] = fp16ToFp32(t.scales[i]!);
  const q = t.kind === 'q8' ? unpackInts(t) : unpackInts(t).slice();
  return { rows: t.rows, cols: t.cols, groupSize: t.groupSize, groups, q, s };
}

/** Scratch for one quantized activation vector: n int8 values and ⌈n/G⌉ scales. */
export interface QuantizedVector {
  /** (n) */
  readonly q: Int8Array;
  /** (⌈n / G⌉) */
  readonly s: Float32Array;
}

export function quantizedVector(n: number, groupSize: number): QuantizedVector {
  return { q: new Int8Array(n), s: new Float32Array(Math.ceil(n / groupSize)) };
}

/**
 * Activation quantization (§3): per group, `a = max|x|`; `a == 0` (or `127 / a` overflowing, a < ~3.7e-37)
 * → scale 0 and zeros; otherwise `scale = a / 127`, `inv = 127 / a`, `q = clamp(roundHalfAway(x · inv), −127, 127)`.
 * NaN or ±Inf in `x` → `NONFINITE` (§3a), as the firmware answers TP_E_NONFINITE.
 */
export function quantizeVector(x: Float32Array, n: number, groupSize: number, out: QuantizedVector): void {
  const { q, s } = out;
  for (let g = 0, start = 0; start < n; g++, start += groupSize) {
    const end = Math.min(start + groupSize, n);
    let a = 0;
    for (let j = start; j < end; j++) {
      const v = Math.abs(x[j]!);
      if (!(v <= F32_MAX)) throw nonFinite('a quantized matmul input');
      if (v > a) a = v;
    }
    const inv = a === 0 ? 0 : f(127 / a);
    if (a === 0 || inv === Infinity) {
      s[g] = 0;
      q.fill(0, start, end);
      continue;
    }
    s[g] = f(a / 127);
    for (let j = start; j < end; j++) {
      const v = roundHalfAway(f(x[j]! * inv));
      q[j] = v > 127 ? 127 : Math.max(v, -127);
    }
  }
}

/** The largest finite binary32. */
export const F32_MAX = 3.4028234663852886e38;

/** `NONFINITE` for NaN or ±Inf found in `where` (docs/numerics.md §3a). */
export function nonFinite(where: string): TinypipeError {
  return new TinypipeError(
    'NONFINITE',
    `${where} holds NaN or an infinity (docs/numerics.md §3a): the input or the weights are out of range. ` +
      'End this stream; check the image and the values sent to it.',
    { details: { where } },
  );
}

/** Throws `NONFINITE` unless every `x[0 … n)` is finite. */
export function checkFinite(x: Float32Array, n: number, where: string): void {
  for (let i = 0; i < n; i++) if (!(Math.abs(x[i]!) <= F32_MAX)) throw nonFinite(where);
}

/**
 * Quantized matmul (§4): `out[i] = Σ_g fp32(dot_g) · fp32(sw[i,g] · sx[g])`, the integer dot of each
 * group exact in int32, groups accumulated in binary32 in index order. Rows `[r0, r1)` of W go to
 * `out[0 … r1−r0)`.
 */
export function qmatmul(out: Float32Array, x: QuantizedVector, w: PreparedMatrix, r0 = 0, r1 = w.rows): void {
  const { cols, groupSize, groups, q: wq, s: ws } = w;
  const xq = x.q;
  const xs = x.s;
  let i = r0;
  // Two rows at a time: independent sums (each in spec order) let the CPU overlap them.
  for (; i + 2 <= r1; i += 2) {
    const rowA = i * cols;
    const rowB = rowA + cols;
    const sA = i * groups;
    const sB = sA + groups;
    let accA = 0;
    let accB = 0;
    for (let g = 0, start = 0; g < groups; g++, start += groupSize) {
      const end = Math.min(start + groupSize, cols);
      let dotA = 0;
      let dotB = 0;
      for (let j = start; j < end; j++) {
        const xj = xq[j]!;
        dotA += wq[rowA + j]! * xj;
        dotB += wq[rowB + j]! * xj;
      }
      const sx = xs[g]!;
      accA = f(accA + f(dotA * f(ws[sA + g]! * sx)));
      accB = f(accB + f(dotB * f(ws[sB + g]! * sx)));
    }
    out[i - r0] = accA;
    out[i + 1 - r0] = accB;
  }
  for (; i < r1; i++) {
    const row = i * cols;
    const srow = i * groups;
    let acc = 0;
    for (let g = 0, start = 0; g < groups; g++, start += groupSize) {
      const end = Math.min(start + groupSize, cols);
      let dot = 0;
      for (let j = start; j < end; j++) dot += wq[row + j]! * xq[j]!;
      acc = f(acc + f(dot * f(ws[srow + g]! * xs[g]!)));
    }
    out[i - r0] = acc;
  }
}

/** Embedding lookup (§8): `x[j] = fp32(q[token, j] · s[token, ⌊j/G⌋])`. */
export function dequantizeRow(w: PreparedMatrix, row: number, x: Float32Array): void {
  const { cols, groupSize, groups, q, s } = w;
  for (let j = 0; j < cols; j++) x[j] = f(q[row * cols + j]! * s[row * groups + Math.floor(j / groupSize)]!);
}
