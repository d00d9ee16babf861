/**
 * KV cache formats (docs/numerics.md §6b): what a stage stores for the keys and values of a position,
 * and what it reads back. The one place that defines the round trip; the stages, the vectors generator
 * and the tests all use these functions. The C firmware's `tp_kv_*` are the same functions.
 */
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import { fp16ToFp32, fp32ToFp16 } from '../numerics/fp16.js';
import { checkFinite, type QuantizedVector, quantizedVector, quantizeVector } from './kernels.js';

const f = Math.fround;

/**
 * One stored row of the KV cache (the kv_dim keys or values of one layer at one position) in its
 * compact form: binary32 values, binary16 bit patterns, or int8 integers with one binary32 scale per
 * kv head.
 */
export type KvRow =
  | { readonly format: 'fp32'; readonly values: Float32Array }
  | { readonly format: 'fp16'; readonly halves: Uint16Array }
  | { readonly format: 'int8'; readonly q: Int8Array; readonly scales: Float32Array };

function checkHeads(n: number, headSize: number): void {
  if (!Number.isInteger(headSize) || headSize < 1 || n % headSize !== 0)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `a KV row of ${n} values is not a whole number of heads of ${headSize}`,
    );
}

/**
 * Stores `x` (kv_dim = n_kv_heads · head_size values) in format `kv`: fp16 rounds each value to
 * nearest-even binary16 (overflow → ±Inf); int8 quantizes each kv head as §3's activations with
 * group = head_size, `NONFINITE` for NaN or ±Inf.
 */
export function storeKvRow(kv: KvFormat, x: Float32Array, headSize: number): KvRow {
  checkHeads(x.length, headSize);
  switch (kv) {
    case 'fp32':
      return { format: 'fp32', values: Float32Array.from(x) };
    case 'fp16':
      return { format: 'fp16', halves: Uint16Array.from(x, fp32ToFp16) };
    case 'int8': {
      const v = quantizedVector(x.length, headSize);
      quantizeInt8(x, x.length, headSize, v);
      return { format: 'int8', q: v.q, scales: v.s };
    }
  }
}

/** Reads a stored row back as binary32 (into `out`): `fp32(h)` for fp16, `fl(q_i · s_head)` for int8. */
export function readKvRow(row: KvRow, headSize: number, out?: Float32Array): Float32Array {
  switch (row.format) {
    case 'fp32': {
      const o = out ?? new Float32Array(row.values.length);
      o.set(row.values);
      return o;
    }
    case 'fp16': {
      const o = out ?? new Float32Array(row.halves.length);
      for (let i = 0; i < row.halves.length; i++) o[i] = fp16ToFp32(row.halves[i]!);
      return o;
    }
    case 'int8': {
      const o = out ?? new Float32Array(row.q.length);
      checkHeads(row.q.length, headSize);
      dequantizeInt8(row.q, row.scales, row.q.length, headSize, o);
      return o;
    }
  }
}

function quantizeInt8(x: Float32Array, n: number, headSize: number, out: QuantizedVector): void {
  checkFinite(x, n, 'a key or value stored in the int8 KV cache');
  quantizeVector(x, n, headSize, out);
}

function dequantizeInt8(q: Int8Array, s: Float32Array, n: number, headSize: number, out: Float32Array) {
  for (let h = 0, i = 0; i < n; h++) {
    const sx = s[h]!;
    for (const end = i + headSize; i < end; i++) out[i] = f(q[i]! * sx);
  }
}

/**
 * An in-place `x ← read(store(x))` for rows of `kvDim` values, allocation-free (one scratch row for
 * int8): what an fp32 cache holding the read-back values stores, giving the bits of a compact cache
 * (§6b). Undefined for fp32, whose round trip is the identity.
 */
export function kvRoundTrip(
  kv: KvFormat,
  kvDim: number,
  headSize: number,
): ((x: Float32Array) => void) | undefined {
  checkHeads(kvDim, headSize);
  if (kv === 'fp32') return undefined;
  if (kv === 'fp16')
    return (x) => {
      for (let i = 0; i < kvDim; i++) x[i] = fp16ToFp32(fp32ToFp16(x[i]!));
    };
  const scratch = quantizedVector(kvDim, headSize);
  return (x) => {
    quantizeInt8(x, kvDim, headSize, scratch);
    dequantizeInt8(scratch.q, scratch.s, kvDim, headSize, x);
  };
}

/**
 * Bytes of one layer's KV cache per position, keys and values together, in the compact form (§6b):
 * fp32 `8·kv_dim`, fp16 `4·kv_dim`, int8 `2·(kv_dim + 4·n_kv_heads)`.
 */
export function kvBytesPerPosition(kv: KvFormat, kvDim: number, nKvHeads: number): number {
  switch (kv) {
    case 'fp32':
      return 8 * kvDim;
    case 'fp16':
      return 4 * kvDim;
    case 'int8':
      return 2 * (kvDim + 4 * nKvHeads);
  }
}
