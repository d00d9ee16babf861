/**
 * Multi-head attention through the wasm kernels: the same sums in the same order as `attention`
 * (reference.ts), so the same bits. Keys are stored in blocks of 4 positions (lane = position for
 * the scores), values row-major (lane = output element).
 */
import type { ModelConfig } from '../checkpoint/types.js';
import { keyIndex } from './layout.js';
import type { WasmKernels } from './wasm.js';

const f = Math.fround;

/** seq_len rounded up to a whole key block (4 positions): the positions a key region holds. */
export function seqBlocks(seqLen: number): number {
  return Math.ceil(seqLen / 4) * 4;
}

/** Floats of the blocked key cache for `layers` layers. */
export function keyCacheLength(c: ModelConfig, layers: number): number {
  return layers * c.nKvHeads * seqBlocks(c.seqLen) * (c.dim / c.nHeads);
}

/** Stores k (kv_dim) at position `pos` of layer `l` in the blocked key cache. */
export function storeKey(
  keyCache: Float32Array,
  k: Float32Array,
  c: ModelConfig,
  l: number,
  pos: number,
): void {
  const hs = c.dim / c.nHeads;
  const region = seqBlocks(c.seqLen) * hs;
  for (let h = 0; h < c.nKvHeads; h++) {
    const r = (l * c.nKvHeads + h) * region;
    for (let i = 0; i < hs; i++) keyCache[r + keyIndex(pos, i, hs)] = k[h * hs + i]!;
  }
}

/**
 * softmax's first passes over x[0..n): max (exact), `x_i = exp(fl(x_i − max))`, their sum in index
 * order; returns the sum (the kernel's `divide` finishes). `exp` returns binary32 values.
 */
export function expAndSum(x: Float32Array, n: number, exp: (v: number) => number): number {
  let max = x[0]!;
  for (let i = 1; i < n; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = exp(f(x[i]! - max));
    x[i] = e;
    sum = f(sum + e);
  }
  return sum;
}

/**
 * `attention(out, q, …)` for layer `l` at `pos` with the wasm kernels. `out`, `q`, `att`
 * (seqBlocks(seq_len)), `keyCache` (blocked, see storeKey) and `valueCache` ((layers, seq_len, kv_dim))
 * are views into the kernels' memory; the key at `pos` must already be stored. `exp`: a binary32 exp
 * for the softmax in JS (the fp32 engine's libm), or `'spec'` for the whole softmax in wasm with §5's
 * expf32 (the quantized engine).
 */
export function attentionWasm(
  kern: WasmKernels,
  out: Float32Array,
  q: Float32Array,
  keyCache: Float32Array,
  valueCache: Float32Array,
  l: number,
  pos: number,
  c: ModelConfig,
  att: Float32Array,
  exp: ((v: number) => number) | 'spec',
): void {
  const hs = c.dim / c.nHeads;
  const kv = (c.dim * c.nKvHeads) / c.nHeads;
  const kvMul = c.nHeads / c.nKvHeads;
  const region = seqBlocks(c.seqLen) * hs * 4; // bytes of one (layer, kv head) key region
  const kBase = keyCache.byteOffset + l * c.nKvHeads * region;
  const vBase = valueCache.byteOffset + l * c.seqLen * kv * 4;
  const scale = f(Math.sqrt(hs));
  const attPtr = att.byteOffset;
  const n = pos + 1;
  for (let h = 0; h < c.nHeads; h++) {
    const kvh = Math.floor(h / kvMul);
    kern.scores(q.byteOffset + h * hs * 4, kBase + kvh * region, attPtr, hs, n, scale);
    if (exp === 'spec') kern.softmaxSpec(attPtr, n);
    else kern.divide(attPtr, n, expAndSum(att, n, exp));
    kern.values(attPtr, vBase + kvh * hs * 4, out.byteOffset + h * hs * 4, hs, n, kv * 4);
  }
}
