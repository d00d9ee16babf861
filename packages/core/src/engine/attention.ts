/**
 * RoPE and multi-head attention, shared by the fp32 engine (llama2.c run.c order) and the quantized
 * stage (docs/numerics.md §6–§7): the same binary32 operations in the same order; only the softmax
 * (libm exp vs the spec's exp) and where the rotation table comes from differ.
 */
import type { ModelConfig } from '../checkpoint/types.js';

const f = Math.fround;

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
