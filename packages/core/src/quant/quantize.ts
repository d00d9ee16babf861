/**
 * Weight quantization (docs/numerics.md §2): symmetric INT4 or INT8 per group of `groupSize`
 * consecutive values of a row (the last group of a row may be short), scales stored as binary16.
 * This runs on the host only; the firmware reads the result.
 */

import { TinypipeError } from '@tinypipe/protocol';
import { type Checkpoint, headSize, kvDim } from '../checkpoint/types.js';
import { modelFingerprint, quantFingerprint } from '../fingerprint/fingerprint.js';
import { fp16ToFp32, fp32ToFp16 } from '../numerics/fp16.js';
import { roundHalfAway } from '../numerics/round.js';
import type { QuantizedModel, QuantKind, QuantLayer, QuantTensor, RopeTable } from './types.js';
import { MAX_GROUP_SIZE } from './types.js';

const f = Math.fround;

/** Largest integer magnitude per kind: q4 uses [-7, 7], q8 [-127, 127] (symmetric, no -8/-128). */
export const QMAX: Record<QuantKind, number> = { q4: 7, q8: 127 };

export interface QuantizeOptions {
  weights: QuantKind;
  /** Values per group along a row. Default 32. */
  groupSize?: number;
}

/**
 * Quantizes a `(rows, cols)` fp32 matrix stored at `w[offset…]`. Per group: `a = max|w|`,
 * `scale = fp16(a / qmax)` (round to nearest even), `s = fp32(scale)`, `q = clamp(roundHalfAway(w / s))`;
 * a group whose `s` is 0 stores zeros.
 */
export function quantizeMatrix(
  w: Float32Array,
  offset: number,
  rows: number,
  cols: number,
  kind: QuantKind,
  groupSize: number,
): QuantTensor {
  const qmax = QMAX[kind];
  const groups = Math.ceil(cols / groupSize);
  const q = new Int8Array(rows * cols); // (rows, cols)
  const scales = new Uint16Array(rows * groups); // (rows, groups) binary16
  for (let r = 0; r < rows; r++) {
    const row = offset + r * cols;
    for (let g = 0; g < groups; g++) {
      const start = g * groupSize;
      const end = Math.min(start + groupSize, cols);
      let a = 0;
      for (let j = start; j < end; j++) a = Math.max(a, Math.abs(w[row + j]!));
      const h = fp32ToFp16(f(a / qmax));
      scales[r * groups + g] = h;
      const s = fp16ToFp32(h);
      if (s === 0 || !Number.isFinite(s)) {
        if (!Number.isFinite(s)) {
          throw new TinypipeError(
            'INVALID_ARGUMENT',
            `weight magnitude ${a} does not fit a binary16 scale (row ${r})`,
          );
        }
        continue; // an all-zero (or tiny) group stays zero
      }
      for (let j = start; j < end; j++) {
        const v = roundHalfAway(f(w[row + j]! / s));
        q[r * cols + j] = v > qmax ? qmax : Math.max(v, -qmax);
      }
    }
  }
  return {
    kind,
    rows,
    cols,
    groupSize,
    data: kind === 'q8' ? new Uint8Array(q.buffer) : packInt4(q),
    scales,
  };
}

/** Two int4 per byte: element 2k in the low nibble, 2k+1 in the high nibble (two's complement). */
export function packInt4(q: Int8Array): Uint8Array {
  const out = new Uint8Array(Math.ceil(q.length / 2));
  for (let i = 0; i < q.length; i += 2) out[i >> 1] = (q[i]! & 0xf) | (((q[i + 1] ?? 0) & 0xf) << 4);
  return out;
}

/** The weight values of a quantized tensor as int8, one per element (int4 sign-extended). */
export function unpackInts(t: QuantTensor): Int8Array {
  if (t.kind === 'q8') return new Int8Array(t.data.buffer, t.data.byteOffset, t.rows * t.cols);
  const n = t.rows * t.cols;
  const out = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const nibble = (t.data[i >> 1]! >> ((i & 1) * 4)) & 0xf;
    out[i] = nibble >= 8 ? nibble - 16 : nibble;
  }
  return out;
}

/** Dequantized fp32 values of a quantized tensor: `w = fp32(int × scale)`. */
export function dequantize(t: QuantTensor): Float32Array {
  const ints = unpackInts(t);
  const groups = Math.ceil(t.cols / t.groupSize);
  const out = new Float32Array(t.rows * t.cols);
  for (let r = 0; r < t.rows; r++) {
    for (let j = 0; j < t.cols; j++) {
      out[r * t.cols + j] = f(
        ints[r * t.cols + j]! * fp16ToFp32(t.scales[r * groups + Math.floor(j / t.groupSize)]!),
      );
    }
  }
  return out;
}

/**
 * The RoPE table of docs/numerics.md §7, computed once on the host in binary64 and rounded:
 * cos/sin(pos · 10000^(−2i/head_size)) for pos < seq_len, i < head_size/2.
 */
export function ropeTable(seqLen: number, headSize: number): RopeTable {
  const half = headSize / 2;
  const cos = new Float32Array(seqLen * half); // (seq_len, head_size/2)
  const sin = new Float32Array(seqLen * half); // (seq_len, head_size/2)
  for (let i = 0; i < half; i++) {
    const freq = 10000 ** (-(2 * i) / headSize);
    for (let pos = 0; pos < seqLen; pos++) {
      cos[pos * half + i] = Math.cos(pos * freq);
      sin[pos * half + i] = Math.sin(pos * freq);
    }
  }
  return { cos, sin };
}

/**
 * Quantizes every matrix of a checkpoint (norms stay fp32) and computes the RoPE table and the
 * fingerprint of this quantization of the model (`quantFingerprint`: q4 and q8 differ).
 *
 * @throws TinypipeError QUANT_BAD_GROUP for a group size outside [1, 1024] or int4 with odd rows
 */
export function quantize(checkpoint: Checkpoint, options: QuantizeOptions): QuantizedModel {
  const { config: c, weights: w } = checkpoint;
  const kind = options.weights;
  const groupSize = options.groupSize ?? 32;
  if (kind !== 'q4' && kind !== 'q8') {
    throw new TinypipeError('INVALID_ARGUMENT', `weights must be 'q4' or 'q8', got ${String(kind)}`);
  }
  if (!Number.isInteger(groupSize) || groupSize < 1 || groupSize > MAX_GROUP_SIZE) {
    throw new TinypipeError(
      'QUANT_BAD_GROUP',
      `group size must be an integer in [1, ${MAX_GROUP_SIZE}], got ${groupSize}`,
    );
  }
  if (kind === 'q4' && (c.dim % 2 !== 0 || c.hiddenDim % 2 !== 0)) {
    throw new TinypipeError(
      'QUANT_BAD_GROUP',
      `int4 packs two values per byte: dim ${c.dim} and hidden_dim ${c.hiddenDim} must be even`,
    );
  }
  const kv = kvDim(c);
  const { dim, hiddenDim: hidden } = c;
  const layers: QuantLayer[] = [];
  for (let l = 0; l < c.nLayers; l++) {
    const m = (t: Float32Array, rows: number, cols: number) =>
      quantizeMatrix(t, l * rows * cols, rows, cols, kind, groupSize);
    layers.push({
      rmsAtt: w.rmsAtt.subarray(l * dim, (l + 1) * dim),
      wq: m(w.wq, dim, dim),
      wk: m(w.wk, kv, dim),
      wv: m(w.wv, kv, dim),
      wo: m(w.wo, dim, dim),
      rmsFfn: w.rmsFfn.subarray(l * dim, (l + 1) * dim),
      w1: m(w.w1, hidden, dim),
      w2: m(w.w2, dim, hidden),
      w3: m(w.w3, hidden, dim),
    });
  }
  const tokenEmbedding = quantizeMatrix(w.tokenEmbedding, 0, c.vocabSize, dim, kind, groupSize);
  return {
    config: c,
    kind,
    groupSize,
    fingerprint: quantFingerprint(modelFingerprint(checkpoint), kind, groupSize),
    tokenEmbedding,
    layers,
    rmsFinal: w.rmsFinal,
    wcls: c.sharedClassifier ? tokenEmbedding : quantizeMatrix(w.wcls, 0, c.vocabSize, dim, kind, groupSize),
    rope: ropeTable(c.seqLen, headSize(c)),
  };
}
