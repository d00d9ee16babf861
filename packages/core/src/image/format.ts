/**
 * Weight-image layout constants and the tensor list a header implies (docs/image-format.md).
 * Everything the C firmware needs to parse an image is in this file and that document.
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';
import { headSize, kvDim } from '../checkpoint/types.js';
import { MAX_GROUP_SIZE, type QuantKind } from '../quant/types.js';

/** First 4 bytes of an image: ASCII "TPIM", read as a little-endian u32. */
export const IMAGE_MAGIC = 0x4d495054;
/** The format version this code writes: 3 (the header carries `build_id` and `kv_format`). */
export const IMAGE_VERSION = 3;
/**
 * Every format version this code reads: 1 (no `build_id`; bytes 0x78.. reserved), 2 (no `kv_format`;
 * bytes 0x80.. reserved) and 3. Versions 1 and 2 mean an fp32 KV cache.
 */
export const IMAGE_VERSIONS: readonly number[] = [1, 2, 3];
/** Bytes of the header's `build_id` (version 2). */
export const IMAGE_BUILD_ID_BYTES = 8;
/** Bytes of the fixed header; the tensor table starts right after it. */
export const IMAGE_HEADER_BYTES = 256;
/** Bytes of one tensor-table entry. */
export const IMAGE_ENTRY_BYTES = 64;
/** Every tensor starts at a multiple of this offset (ESP32-S3 PIE 128-bit loads). */
export const IMAGE_TENSOR_ALIGN = 16;
/** Bytes of a tensor name field, NUL-padded; names are at most 31 ASCII characters. */
export const IMAGE_NAME_BYTES = 32;
/** Largest rank a table entry can describe. */
export const IMAGE_MAX_RANK = 3;
/** ESP32-S3 cache-MMU page: the granule in which flash is mapped into the address space. */
export const ESP32S3_MMU_PAGE_BYTES = 65536;

/** Byte offsets of the header fields (all little-endian u32 unless noted). */
export const HEADER = {
  magic: 0x00,
  version: 0x04,
  headerSize: 0x08,
  /** CRC-32C of bytes [0, 0x0C) then [0x10, table end). */
  headerCrc: 0x0c,
  /** 32 bytes. */
  fingerprint: 0x10,
  dim: 0x30,
  hiddenDim: 0x34,
  nLayers: 0x38,
  nHeads: 0x3c,
  nKvHeads: 0x40,
  vocabSize: 0x44,
  seqLen: 0x48,
  sharedClassifier: 0x4c,
  layerFrom: 0x50,
  layerTo: 0x54,
  flags: 0x58,
  vocabFrom: 0x5c,
  vocabTo: 0x60,
  quantBits: 0x64,
  groupSize: 0x68,
  tensorCount: 0x6c,
  tableOffset: 0x70,
  imageSize: 0x74,
  /** 8 bytes, version 2: the build id (all zero: none). Reserved (zero) in version 1. */
  buildId: 0x78,
  /**
   * Version 3: the KV cache format (docs/numerics.md §6b), 0 fp32, 1 fp16, 2 int8. Reserved (zero) in
   * versions 1 and 2, which mean fp32.
   */
  kvFormat: 0x80,
  /** Version 3, tokenizer flag: llama2.c's max_token_length (1..65536); 0 without the flag. */
  tokenizerMaxTokenLength: 0x84,
  /** Version 3, tokenizer flag: bytes of `tokenizer.bytes` (the pieces back to back, >= 1); 0 without. */
  tokenizerBytes: 0x88,
  /** Version 3, story flag: bytes of `story.defaults` (24 + the prompt's bytes, §4c); 0 without. */
  storyBytes: 0x8c,
  /** Bytes [0x90, 0x100) are reserved and must be zero ([0x80, 0x100) in v2, [0x78, 0x100) in v1). */
  reserved: 0x90,
} as const;

/** Header `flags` bits. */
export const FLAG_EMBEDDING = 1;
export const FLAG_CLASSIFIER = 2;
/** Version 3: the image holds the tokenizer section (docs/image-format.md §4b). */
export const FLAG_TOKENIZER = 4;
/** Version 3: the image holds the story defaults (`story.defaults`, docs/image-format.md §4c). */
export const FLAG_STORY = 8;

/** Byte offsets inside a tensor-table entry. */
export const ENTRY = {
  name: 0x00,
  /** u16 */
  dtype: 0x20,
  /** u16 */
  rank: 0x22,
  /** u32[3]; dimensions past `rank` are 0. */
  shape: 0x24,
  offset: 0x30,
  byteLength: 0x34,
  crc: 0x38,
  /** u32, must be zero. */
  reserved: 0x3c,
} as const;

/** Element type of a stored tensor. */
export type TensorDType = 'f32' | 'f16' | 'i8' | 'i4x2' | 'u8' | 'u32';

/** On-disk dtype codes (u16). 0 is never valid. */
export const DTYPE_CODE: Readonly<Record<TensorDType, number>> = {
  f32: 1,
  f16: 2,
  i8: 3,
  i4x2: 4,
  u8: 5,
  u32: 6,
};

/** dtype for a code, or undefined for an unknown code. */
export function dtypeFromCode(code: number): TensorDType | undefined {
  for (const [k, v] of Object.entries(DTYPE_CODE)) if (v === code) return k as TensorDType;
  return undefined;
}

/** Bytes that `count` elements of `dtype` occupy (i4x2 packs two elements per byte). */
export function dtypeBytes(dtype: TensorDType, count: number): number {
  switch (dtype) {
    case 'f32':
    case 'u32':
      return count * 4;
    case 'f16':
      return count * 2;
    case 'i8':
    case 'u8':
      return count;
    case 'i4x2':
      return count / 2;
  }
}

/** Header `quant_bits` value for a quantization kind. */
export function quantBits(kind: QuantKind): 4 | 8 {
  return kind === 'q4' ? 4 : 8;
}

/** The layout facts of a stage that decide which tensors an image holds. */
export interface StageLayout {
  readonly config: ModelConfig;
  readonly kind: QuantKind;
  readonly groupSize: number;
  readonly layerRange: readonly [from: number, to: number];
  readonly embedding: boolean;
  /** The classifier's vocab rows `[v0, v1)`, or undefined when the stage has no classifier. */
  readonly vocab: readonly [v0: number, v1: number] | undefined;
  /** @deprecated use `vocab` (the same range; renamed in issue 18). */
  readonly vocabRange?: readonly [v0: number, v1: number] | undefined;
  /** The tokenizer section's size facts, or undefined when the image holds no tokenizer. */
  readonly tokenizer?: TokenizerLayout | undefined;
  /** The story defaults' size (header `story_bytes`), or undefined when the image holds none. */
  readonly story?: StoryLayout | undefined;
}

/** What the header says of the story defaults (docs/image-format.md §4c). */
export interface StoryLayout {
  /** Bytes of `story.defaults`: the 24-byte record and the prompt's UTF-8 bytes. */
  readonly bytes: number;
}

/** What the header says of the tokenizer section (docs/image-format.md §4b). */
export interface TokenizerLayout {
  /** llama2.c's max_token_length. */
  readonly maxTokenLength: number;
  /** Bytes of `tokenizer.bytes`. */
  readonly bytes: number;
}

/**
 * A `StageLayout` written with the field's old name, `vocabRange` instead of `vocab`; still accepted by
 * `expectedTensors` and `planImage`.
 * @deprecated write `vocab`.
 */
export type LegacyStageLayout = Omit<StageLayout, 'vocab' | 'vocabRange'> & {
  readonly vocabRange: readonly [v0: number, v1: number] | undefined;
};

/** `s` with its classifier range under `vocab` (a legacy layout's `vocabRange` moved there). */
function withVocab(s: StageLayout | LegacyStageLayout): StageLayout {
  return 'vocab' in s ? s : { ...s, vocab: s.vocabRange };
}

/** One tensor the header implies: what the table entry at that index must say. */
export interface TensorSpec {
  readonly name: string;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  readonly byteLength: number;
}

/**
 * True when the classifier rows are not stored because they are rows `[v0, v1)` of the stored
 * embedding (llama2.c's shared classifier, on a stage that also holds the embedding).
 */
export function classifierAliasesEmbedding(s: StageLayout): boolean {
  return s.config.sharedClassifier && s.embedding && s.vocab !== undefined;
}

/**
 * The tensors an image with this layout holds, in table (and data) order: the order a stage
 * reads them while computing one token (docs/image-format.md §4).
 */
export function expectedTensors(layout: StageLayout | LegacyStageLayout): TensorSpec[] {
  const s = withVocab(layout);
  const c = s.config;
  const qd: TensorDType = s.kind === 'q4' ? 'i4x2' : 'i8';
  const out: TensorSpec[] = [];
  const f32 = (name: string, shape: number[]) =>
    out.push({
      name,
      dtype: 'f32',
      shape,
      byteLength: dtypeBytes(
        'f32',
        shape.reduce((a, b) => a * b, 1),
      ),
    });
  const matrix = (name: string, rows: number, cols: number) => {
    out.push({
      name: `${name}.data`,
      dtype: qd,
      shape: [rows, cols],
      byteLength: dtypeBytes(qd, rows * cols),
    });
    const groups = Math.ceil(cols / s.groupSize); // the last group of a row may be short
    out.push({ name: `${name}.scales`, dtype: 'f16', shape: [rows, groups], byteLength: rows * groups * 2 });
  };
  const kv = kvDim(c);
  const [from, to] = s.layerRange;
  if (s.embedding) matrix('embedding', c.vocabSize, c.dim);
  if (to > from) {
    f32('rope.cos', [c.seqLen, headSize(c) / 2]);
    f32('rope.sin', [c.seqLen, headSize(c) / 2]);
  }
  for (let l = from; l < to; l++) {
    f32(`layers.${l}.rms_att`, [c.dim]);
    matrix(`layers.${l}.wq`, c.dim, c.dim);
    matrix(`layers.${l}.wk`, kv, c.dim);
    matrix(`layers.${l}.wv`, kv, c.dim);
    matrix(`layers.${l}.wo`, c.dim, c.dim);
    f32(`layers.${l}.rms_ffn`, [c.dim]);
    matrix(`layers.${l}.w1`, c.hiddenDim, c.dim);
    matrix(`layers.${l}.w3`, c.hiddenDim, c.dim);
    matrix(`layers.${l}.w2`, c.dim, c.hiddenDim);
  }
  if (s.vocab !== undefined) {
    f32('rms_final', [c.dim]);
    if (!classifierAliasesEmbedding(s)) matrix('classifier', s.vocab[1] - s.vocab[0], c.dim);
  }
  if (s.tokenizer) {
    const v = c.vocabSize;
    const flat = (name: string, dtype: TensorDType, n: number) =>
      out.push({ name: `tokenizer.${name}`, dtype, shape: [n], byteLength: dtypeBytes(dtype, n) });
    flat('scores', 'f32', v);
    flat('offsets', 'u32', v + 1);
    flat('sorted', 'u32', v);
    flat('bytes', 'u8', s.tokenizer.bytes);
  }
  if (s.story)
    out.push({ name: 'story.defaults', dtype: 'u8', shape: [s.story.bytes], byteLength: s.story.bytes });
  return out;
}

/** Largest quantization group (defined with the quantization, `quant/types.ts`). */
export { MAX_GROUP_SIZE };

/** Round `n` up to a multiple of `align` (a power of two). */
export function alignUp(n: number, align: number): number {
  return Math.ceil(n / align) * align;
}

/** Where each tensor of a stage lands in its image, and the image's total size. */
export interface ImagePlan {
  readonly tensors: readonly (TensorSpec & { readonly offset: number })[];
  /** End of the tensor table = start of the data region. */
  readonly tableEnd: number;
  /** Total image bytes (header through the last tensor byte). */
  readonly imageSize: number;
}

/**
 * The canonical placement `serializeStage` uses: the table right after the header, then each
 * tensor at the next multiple of 16 bytes. Lets tools size flash partitions without building.
 */
export function planImage(layout: StageLayout | LegacyStageLayout): ImagePlan {
  const s = withVocab(layout);
  const { dim, hiddenDim } = s.config;
  const g = s.groupSize;
  if (
    !Number.isInteger(g) ||
    g < 1 ||
    g > MAX_GROUP_SIZE ||
    (s.kind === 'q4' && (dim % 2 !== 0 || hiddenDim % 2 !== 0))
  ) {
    throw new TinypipeError(
      'QUANT_BAD_GROUP',
      `group size ${g} must be an integer in [1, ${MAX_GROUP_SIZE}]` +
        (s.kind === 'q4' ? `, and int4 needs even dim and hidden_dim (have ${dim}, ${hiddenDim})` : ''),
      { details: { groupSize: g, dim, hiddenDim, kind: s.kind } },
    );
  }
  const specs = expectedTensors(s);
  const end = IMAGE_HEADER_BYTES + specs.length * IMAGE_ENTRY_BYTES;
  let at = end;
  const tensors = specs.map((spec) => {
    const offset = alignUp(at, IMAGE_TENSOR_ALIGN);
    at = offset + spec.byteLength;
    return { ...spec, offset };
  });
  return { tensors, tableEnd: end, imageSize: at };
}
