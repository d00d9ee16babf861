/**
 * Where each tensor sits in a llama2.c checkpoint file, per format version (facts from llama2.c's
 * export.py: `legacy_export` = v0, `version1_export` = v1, `version2_export` = v2).
 *
 *   v0: int32[7] header (vocab_size < 0 ⇔ unshared classifier), then fp32
 *       token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final,
 *       freq_cis_real, freq_cis_imag (seq_len × head_size/2 each, unused by run.c), [wcls]
 *   v1: 256-byte header (magic "ak42", version 1, int32[7], u8 shared_classifier, zero pad), then fp32
 *       rms_att, rms_ffn, rms_final, token_embedding, wq, wk, wv, wo, w1, w2, w3, [wcls]
 *   v2: 256-byte header (… u8 shared_classifier, int32 group_size, zero pad), then fp32
 *       rms_att, rms_ffn, rms_final, then Q8_0 tensors token_embedding, wq, wk, wv, wo, w1, w2, w3,
 *       [wcls], each as int8[n] followed by fp32[n / group_size] scales (groups over the flattened tensor)
 */
import { type CheckpointVersion, type ModelConfig, type ModelWeights, tensorSizes } from './types.js';

/** 0x616b3432: the bytes "24ka" on disk, i.e. "ak42" read as a little-endian u32. */
export const CHECKPOINT_MAGIC = 0x616b3432;
export const V0_HEADER_BYTES = 7 * 4;
export const V12_HEADER_BYTES = 256;

export type TensorName = keyof ModelWeights | 'freqCisReal' | 'freqCisImag';

export interface TensorSpan {
  readonly name: TensorName;
  /** Number of fp32 values (dequantized for Q8_0). */
  readonly count: number;
  readonly dtype: 'f32' | 'q8_0';
  /** Byte offset in the file. */
  readonly offset: number;
  /** Bytes on disk (Q8_0: int8 values then fp32 scales). */
  readonly bytes: number;
}

export interface CheckpointLayout {
  readonly version: CheckpointVersion;
  readonly headerBytes: number;
  readonly tensors: readonly TensorSpan[];
  /** Exact file size implied by the header. */
  readonly fileBytes: number;
}

/** The weights in llama2.c v0 file order (the legacy RoPE tables sit between rmsFinal and wcls on disk). */
export const V0_WEIGHT_ORDER: readonly (keyof ModelWeights)[] = [
  'tokenEmbedding',
  'rmsAtt',
  'wq',
  'wk',
  'wv',
  'wo',
  'rmsFfn',
  'w1',
  'w2',
  'w3',
  'rmsFinal',
  'wcls',
];
const V0_ORDER: readonly TensorName[] = [
  ...V0_WEIGHT_ORDER.slice(0, -1),
  'freqCisReal',
  'freqCisImag',
  'wcls',
];
const V1_ORDER: readonly TensorName[] = [
  'rmsAtt',
  'rmsFfn',
  'rmsFinal',
  'tokenEmbedding',
  'wq',
  'wk',
  'wv',
  'wo',
  'w1',
  'w2',
  'w3',
  'wcls',
];
const NORMS: ReadonlySet<TensorName> = new Set<TensorName>(['rmsAtt', 'rmsFfn', 'rmsFinal']);

/**
 * The layout a header implies. Sizes are computed in floating point, which is exact below 2^53 bytes;
 * absurd headers (beyond that) are rejected by the reader before this is trusted.
 */
export function checkpointLayout(
  config: ModelConfig,
  version: CheckpointVersion,
  groupSize = 0,
): CheckpointLayout {
  const sizes = tensorSizes(config);
  const ropeCount = (config.seqLen * (config.dim / config.nHeads)) / 2;
  const count = (name: TensorName): number =>
    name === 'freqCisReal' || name === 'freqCisImag' ? ropeCount : sizes[name];
  const order = version === 0 ? V0_ORDER : V1_ORDER;
  const headerBytes = version === 0 ? V0_HEADER_BYTES : V12_HEADER_BYTES;
  const tensors: TensorSpan[] = [];
  let offset = headerBytes;
  for (const name of order) {
    const n = count(name);
    if (name === 'wcls' && config.sharedClassifier) continue;
    const quantized = version === 2 && !NORMS.has(name);
    const bytes = quantized ? n + (n / groupSize) * 4 : n * 4;
    tensors.push({ name, count: n, dtype: quantized ? 'q8_0' : 'f32', offset, bytes });
    offset += bytes;
  }
  return { version, headerBytes, tensors, fileBytes: offset };
}
