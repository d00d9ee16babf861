/**
 * The JavaScript reference kernels: the JS path defines the bits (docs/numerics.md), and `kernels.wat`
 * must give the same bytes for every input without NaN (kernels.test.ts compares them on random shapes).
 *
 * - `matmul`: row i summed over j in index order ↔ wasm lane = row, 16 rows interleaved (layout.ts).
 * - `attention` scores: position t summed over i in index order ↔ wasm lane = position, keys stored in
 *   blocks of 4 positions; values: element i summed over t in order ↔ wasm lane = element i.
 * - `softmax` (libm exp, the fp32 engine's): max, exp and sum stay in JS; the division `x / sum` is one
 *   IEEE division per element either way. The quantized engine's softmax (`softmaxQ`, quant/stage.ts)
 *   and SwiGLU run whole in wasm with §5's expf32 (numerics/exp.ts is that reference).
 * - `qmatmul` (quant/kernels.ts): per row, exact int32 group dots (any order), then the binary32
 *   accumulation over groups in order ↔ wasm lane = row, 4 rows per block.
 *
 * `matmul` and `softmax` follow llama2.c's run.c; `rope` and `attention` are shared by the fp32 engine
 * (run.c order) and the quantized stage (docs/numerics.md §6–§7): the same binary32 operations in the same
 * order; only the softmax (libm exp vs the spec's exp) and where the rotation table comes from differ.
 */
import type { ModelConfig } from '../checkpoint/types.js';

const f = Math.fround;

/**
 * run.c `matmul`: W (d, n) @ x (n) → out (d), each row's dot product summed in index order.
 * Four rows advance together: their sums are independent, so each keeps run.c's order exactly while the
 * CPU overlaps four add chains (2.2× faster in V8 than one row at a time, bit-identical).
 */
export function matmul(
  out: Float32Array,
  x: Float32Array,
  w: Float32Array,
  wOff: number,
  n: number,
  d: number,
): void {
  let i = 0;
  for (; i + 4 <= d; i += 4) {
    let v0 = 0;
    let v1 = 0;
    let v2 = 0;
    let v3 = 0;
    const k0 = wOff + i * n;
    const k1 = k0 + n;
    const k2 = k1 + n;
    const k3 = k2 + n;
    for (let j = 0; j < n; j++) {
      const xj = x[j]!;
      v0 = f(v0 + f(w[k0 + j]! * xj));
      v1 = f(v1 + f(w[k1 + j]! * xj));
      v2 = f(v2 + f(w[k2 + j]! * xj));
      v3 = f(v3 + f(w[k3 + j]! * xj));
    }
    out[i] = v0;
    out[i + 1] = v1;
    out[i + 2] = v2;
    out[i + 3] = v3;
  }
  for (; i < d; i++) {
    let val = 0;
    const k = wOff + i * n;
    for (let j = 0; j < n; j++) val = f(val + f(w[k + j]! * x[j]!));
    out[i] = val;
  }
}

/** run.c `softmax` over x[0..size) in place (libm exp; see the module note). */
export function softmax(x: Float32Array, size: number): void {
  let max = x[0]!;
  for (let i = 1; i < size; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < size; i++) {
    const e = f(Math.exp(f(x[i]! - max)));
    x[i] = e;
    sum = f(sum + e);
  }
  for (let i = 0; i < size; i++) x[i] = f(x[i]! / sum);
}

/**
 * Rotates the pairs (i, i+1) of q (dim) and, for i < kv_dim, of k by the angle table entry
 * `cos/sin[off + (i mod head_size)/2]`.
 */
export function rope(
  q: Float32Array,
  k: Float32Array,
  c: ModelConfig,
  cos: Float32Array,
  sin: Float32Array,
  off: number,
): void {
  const hs = c.dim / c.nHeads;
  const kv = (c.dim * c.nKvHeads) / c.nHeads;
  for (let i = 0; i < c.dim; i += 2) {
    const fcr = cos[off + (i % hs) / 2]!;
    const fci = sin[off + (i % hs) / 2]!;
    const q0 = q[i]!;
    const q1 = q[i + 1]!;
    q[i] = f(f(q0 * fcr) - f(q1 * fci));
    q[i + 1] = f(f(q0 * fci) + f(q1 * fcr));
    if (i < kv) {
      const k0 = k[i]!;
      const k1 = k[i + 1]!;
      k[i] = f(f(k0 * fcr) - f(k1 * fci));
      k[i + 1] = f(f(k0 * fci) + f(k1 * fcr));
    }
  }
}

/**
 * Multi-head attention of q (dim) over cached positions 0..pos of one layer → out (dim).
 * keyCache/valueCache hold that layer at `loff`: (seq_len, kv_dim). `att` (seq_len) is scratch.
 * Scores: dot in index order, divided by fl(sqrt(head_size)); softmax; values accumulated over t in order.
 */
export function attention(
  out: Float32Array,
  q: Float32Array,
  keyCache: Float32Array,
  valueCache: Float32Array,
  loff: number,
  pos: number,
  c: ModelConfig,
  att: Float32Array,
  softmax: (x: Float32Array, n: number) => void,
): void {
  const hs = c.dim / c.nHeads;
  const kv = (c.dim * c.nKvHeads) / c.nHeads;
  const kvMul = c.nHeads / c.nKvHeads;
  const scale = f(Math.sqrt(hs));
  for (let h = 0; h < c.nHeads; h++) {
    const qOff = h * hs;
    const kvOff = loff + Math.floor(h / kvMul) * hs;
    for (let t = 0; t <= pos; t++) {
      const kOff = kvOff + t * kv;
      let score = 0;
      for (let i = 0; i < hs; i++) score = f(score + f(q[qOff + i]! * keyCache[kOff + i]!));
      att[t] = f(score / scale);
    }
    softmax(att, pos + 1);
    out.fill(0, qOff, qOff + hs);
    for (let t = 0; t <= pos; t++) {
      const vOff = kvOff + t * kv;
      const a = att[t]!;
      for (let i = 0; i < hs; i++) out[qOff + i] = f(out[qOff + i]! + f(a * valueCache[vOff + i]!));
    }
  }
}
