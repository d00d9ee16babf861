/**
 * `writeCheckpoint`: a `Checkpoint` → llama2.c file bytes (v0, v1 or v2). Formats: ./layout.ts.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { CHECKPOINT_MAGIC, checkpointLayout, type TensorName } from './layout.js';
import { type Checkpoint, type CheckpointVersion, headSize, type ModelConfig } from './types.js';

export interface WriteCheckpointOptions {
  version: CheckpointVersion;
  /**
   * v2 only: values per Q8_0 group. Default: llama2.c export.py's rule — start at 64 and halve until
   * it divides `dim`.
   */
  groupSize?: number;
}

/**
 * Serializes a checkpoint in a llama2.c format. v0 is what llama2.c's run.c reads; v2 quantizes every
 * matrix to Q8_0 like export.py (`scale = max|w| / 127`, `q = round(w / scale)`, ties to even).
 *
 * The v0 legacy RoPE tables (`freq_cis_real/imag`, skipped by run.c) are written with the values
 * llama2.c's exporter wrote: cos/sin of `pos / 10000^(2i/head_size)` in fp32.
 *
 * @throws TinypipeError QUANT_BAD_GROUP when the v2 group size does not divide every matrix.
 */
export function writeCheckpoint(checkpoint: Checkpoint, options: WriteCheckpointOptions): Uint8Array {
  const { config, weights } = checkpoint;
  const { version } = options;
  const groupSize = version === 2 ? (options.groupSize ?? defaultGroupSize(config.dim)) : 0;
  if (version === 2 && (!Number.isSafeInteger(groupSize) || groupSize <= 0)) {
    throw new TinypipeError(
      'QUANT_BAD_GROUP',
      `Q8_0 group size must be a positive integer, got ${groupSize}`,
    );
  }
  const layout = checkpointLayout(config, version, groupSize || 1);
  const out = new Uint8Array(layout.fileBytes);
  const view = new DataView(out.buffer);
  writeHeader(view, config, version, groupSize);

  for (const span of layout.tensors) {
    const values =
      span.name === 'freqCisReal' || span.name === 'freqCisImag'
        ? legacyRope(config, span.name)
        : weights[span.name];
    if (values.length !== span.count) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `tensor ${span.name} has ${values.length} values, the config implies ${span.count}`,
      );
    }
    if (span.dtype === 'f32') {
      new Uint8Array(out.buffer, span.offset, span.bytes).set(
        new Uint8Array(values.buffer, values.byteOffset, span.count * 4),
      );
    } else {
      if (span.count % groupSize !== 0) {
        throw new TinypipeError(
          'QUANT_BAD_GROUP',
          `Q8_0 group size ${groupSize} does not divide the ${span.count} values of ${span.name}; pick a divisor of dim and hidden_dim`,
        );
      }
      quantizeQ80(values, groupSize, out, span.offset);
    }
  }
  return out;
}

/** export.py: start at 64, halve until it divides dim. */
function defaultGroupSize(dim: number): number {
  let g = 64;
  while (dim % g !== 0) g >>= 1;
  return g;
}

function writeHeader(view: DataView, c: ModelConfig, version: CheckpointVersion, groupSize: number): void {
  const ints = [c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen];
  if (version === 0) {
    if (!c.sharedClassifier) ints[5] = -c.vocabSize;
    ints.forEach((v, i) => {
      view.setInt32(4 * i, v, true);
    });
    return;
  }
  view.setUint32(0, CHECKPOINT_MAGIC, true);
  view.setInt32(4, version, true);
  ints.forEach((v, i) => {
    view.setInt32(8 + 4 * i, v, true);
  });
  view.setUint8(36, c.sharedClassifier ? 1 : 0);
  if (version === 2) view.setInt32(37, groupSize, true);
}

/** (seq_len, head_size/2): the legacy exporter's freq_cis tables (fp32). */
function legacyRope(c: ModelConfig, name: Extract<TensorName, 'freqCisReal' | 'freqCisImag'>): Float32Array {
  const half = headSize(c) / 2;
  const out = new Float32Array(c.seqLen * half);
  for (let pos = 0; pos < c.seqLen; pos++) {
    for (let i = 0; i < half; i++) {
      const freq = Math.fround(1 / Math.fround(10000 ** Math.fround((2 * i) / (2 * half))));
      const angle = Math.fround(pos * freq);
      out[pos * half + i] = name === 'freqCisReal' ? Math.cos(angle) : Math.sin(angle);
    }
  }
  return out;
}

/** Q8_0 over the flattened tensor: int8[n] then fp32 scales[n / groupSize]. */
function quantizeQ80(w: Float32Array, groupSize: number, out: Uint8Array, offset: number): void {
  const n = w.length;
  const q = new Int8Array(out.buffer, offset, n); // (n)
  const scales = new DataView(out.buffer, offset + n, (n / groupSize) * 4); // (n / group_size) fp32
  for (let g = 0; g < n / groupSize; g++) {
    const start = g * groupSize;
    let max = 0;
    for (let i = start; i < start + groupSize; i++) max = Math.max(max, Math.abs(w[i]!));
    const scale = Math.fround(max / 127);
    scales.setFloat32(4 * g, scale, true);
    for (let i = start; i < start + groupSize; i++) {
      q[i] = scale === 0 ? 0 : roundHalfEven(Math.fround(w[i]! / scale));
    }
  }
}

/** torch.round semantics: nearest integer, ties to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
