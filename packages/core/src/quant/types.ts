/**
 * Quantized weights: the data the firmware runs. The exact arithmetic is specified in
 * docs/numerics.md; the on-flash layout in docs/image-format.md.
 */
import type { KvFormat } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';

/** Weight quantization: symmetric INT4 or INT8 per group of `groupSize` consecutive inputs. */
export type QuantKind = 'q4' | 'q8';

/**
 * A quantized matrix `(rows, cols)`, row-major, quantized in groups of `groupSize` consecutive
 * columns of one row (so `cols % groupSize == 0`).
 *
 * - `data`: q8 → `rows*cols` bytes, each an int8 (two's complement).
 *           q4 → `rows*cols/2` bytes; element `2k` in the low nibble, `2k+1` in the high nibble,
 *           each nibble a two's complement int4.
 * - `scales`: IEEE binary16 bit patterns, `(rows, cols/groupSize)`; weight = int × scale.
 */
export interface QuantTensor {
  readonly kind: QuantKind;
  readonly rows: number;
  readonly cols: number;
  readonly groupSize: number;
  readonly data: Uint8Array;
  readonly scales: Uint16Array;
}

/** The weights of one transformer layer. */
export interface QuantLayer {
  /** (dim) fp32 */
  readonly rmsAtt: Float32Array;
  /** (dim, dim) */
  readonly wq: QuantTensor;
  /** (kv_dim, dim) */
  readonly wk: QuantTensor;
  /** (kv_dim, dim) */
  readonly wv: QuantTensor;
  /** (dim, dim) */
  readonly wo: QuantTensor;
  /** (dim) fp32 */
  readonly rmsFfn: Float32Array;
  /** (hidden_dim, dim) */
  readonly w1: QuantTensor;
  /** (dim, hidden_dim) */
  readonly w2: QuantTensor;
  /** (hidden_dim, dim) */
  readonly w3: QuantTensor;
}

/** RoPE rotation table computed once on the host: `(seq_len, head_size/2)` each. */
export interface RopeTable {
  readonly cos: Float32Array;
  readonly sin: Float32Array;
}

/** A whole quantized model, as `quantize()` produces it. */
export interface QuantizedModel {
  readonly config: ModelConfig;
  readonly kind: QuantKind;
  readonly groupSize: number;
  /** `quantFingerprint` of the source checkpoint's `modelFingerprint`, kind and group size (32 bytes). */
  readonly fingerprint: Uint8Array;
  /** (vocab_size, dim) */
  readonly tokenEmbedding: QuantTensor;
  readonly layers: readonly QuantLayer[];
  /** (dim) fp32 */
  readonly rmsFinal: Float32Array;
  /** (vocab_size, dim); the same object as `tokenEmbedding` when the classifier is shared. */
  readonly wcls: QuantTensor;
  readonly rope: RopeTable;
}

/**
 * What one stage (one board) holds: a contiguous layer range, and optionally the embedding and
 * the classifier (or a vocab slice of it). Built from a `QuantizedModel` or read from a weight image;
 * `QuantStage` runs it.
 */
export interface StageWeights {
  readonly config: ModelConfig;
  readonly kind: QuantKind;
  readonly groupSize: number;
  readonly fingerprint: Uint8Array;
  /** Layers `[from, to)` of the model; `layers[i]` is model layer `from + i`. May be empty. */
  readonly layerRange: readonly [from: number, to: number];
  readonly layers: readonly QuantLayer[];
  /** (vocab_size, dim) when this stage turns tokens into the residual stream. */
  readonly embedding?: QuantTensor;
  /**
   * When this stage produces logits: the final norm and the classifier rows `[v0, v1)`
   * (`wcls.rows == v1 - v0`).
   */
  readonly classifier?: {
    readonly rmsFinal: Float32Array;
    readonly wcls: QuantTensor;
    /** The vocab rows `[v0, v1)` this classifier holds. */
    readonly vocab: readonly [v0: number, v1: number];
    /** @deprecated use `vocab` (the same range; renamed in issue 18). */
    readonly vocabRange?: readonly [v0: number, v1: number];
  };
  /** Present whenever `layers` is non-empty. */
  readonly rope?: RopeTable;
  /**
   * The KV cache format these weights are built for (an image's `kv_format`, docs/image-format.md §3);
   * undefined: not fixed (fp32 unless the stage is told otherwise).
   */
  readonly kv?: KvFormat;
}

/**
 * Largest quantization group: groups run along a row (the last one may be short, e.g. stories260K's
 * hidden_dim 172 = 5 × 32 + 12), so any size up to this works for any shape.
 */
export const MAX_GROUP_SIZE = 1024;

/** Which part of a model a stage holds, for `sliceStageWeights`, the quantized engine and `buildImage`. */
export interface StageSelection {
  /** Model layers `[from, to)`; may be empty (`from == to`). */
  readonly layers: readonly [from: number, to: number];
  /** True when this stage turns tokens into the residual stream (the first stage). */
  readonly embedding: boolean;
  /**
   * The classifier: false (none), true (the final norm and all rows) or the vocab range `[v0, v1)`
   * (the final norm and classifier rows v0..v1-1, for splitting a large classifier across boards).
   */
  readonly classifier: boolean | readonly [v0: number, v1: number];
}
