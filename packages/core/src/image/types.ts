import type { ErrorCode, KvFormat } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';
import type { QuantKind, StageWeights } from '../quant/types.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import type { StoryLayout, TensorDType, TokenizerLayout } from './format.js';
import type { StoryDefaults, StoryDefaultsInput } from './story-section.js';

/** The decoded fixed header of a weight image (docs/image-format.md §3). */
export interface ImageHeader {
  readonly version: number;
  readonly headerSize: number;
  /** CRC-32C stored in the header (over header + table, this field excluded). */
  readonly headerCrc: number;
  /** The quantized model's fingerprint (32 bytes), see `quantFingerprint`. */
  readonly fingerprint: Uint8Array;
  /**
   * The build id (8 bytes, docs/image-format.md §3): which `tinypipe build` stamped this image; all
   * zero when none did (an image from `buildImage` alone) and in a version-1 image.
   */
  readonly buildId: Uint8Array;
  /**
   * The KV cache format the image is built for (`kv_format`, docs/numerics.md §6b); `'fp32'` in
   * version-1 and -2 images.
   */
  readonly kv: KvFormat;
  readonly config: ModelConfig;
  /** Model layers `[from, to)` this image holds. */
  readonly layerRange: readonly [from: number, to: number];
  readonly embedding: boolean;
  /** Classifier vocab rows `[v0, v1)`, or undefined when the image has no classifier. */
  readonly vocab: readonly [v0: number, v1: number] | undefined;
  /** @deprecated use `vocab` (the same range; renamed in issue 18). */
  readonly vocabRange?: readonly [v0: number, v1: number] | undefined;
  /** The tokenizer section's size facts (header flag bit 2, version 3), or undefined without one. */
  readonly tokenizer?: TokenizerLayout;
  /** The story defaults' size (header flag bit 3, version 3), or undefined without them. */
  readonly story?: StoryLayout;
  readonly kind: QuantKind;
  readonly groupSize: number;
  readonly tensorCount: number;
  readonly tableOffset: number;
  /** Total bytes of the image, header through the last tensor byte. */
  readonly imageSize: number;
}

/** One decoded tensor-table entry. */
export interface ImageTensorEntry {
  readonly name: string;
  readonly dtype: TensorDType;
  readonly shape: readonly number[];
  /** Offset of the first byte from the start of the image (a multiple of 16). */
  readonly offset: number;
  readonly byteLength: number;
  /** CRC-32C of the tensor's bytes. */
  readonly crc32c: number;
}

/** What `readImage` returns. */
export interface ImageContents {
  readonly header: ImageHeader;
  /** The tensor table, in file order. */
  readonly tensors: readonly ImageTensorEntry[];
  /** The stage's weights as zero-copy views into the image bytes (see `readImage`). */
  readonly stage: StageWeights;
  /** SHA-256 of the whole image (what the build manifest records for the flasher). */
  readonly sha256: Uint8Array;
  /** The tokenizer of the image's tokenizer section (docs/image-format.md §4b), when it has one. */
  readonly tokenizer?: Tokenizer;
  /** Board 0's story defaults (docs/image-format.md §4c), when the image holds them. */
  readonly story?: StoryDefaults;
}

export type { StageSelection } from '../quant/types.js';

/** One line of a `verifyImage` report. */
export interface ImageCheck {
  /** Stable check id: "length", "magic", "version", "header", "range", "header-crc", "table", "size",
   * "tensor:<name>", "padding", "tokenizer", "story". */
  readonly check: string;
  readonly ok: boolean;
  /** What was found (for a pass) or what is wrong and what to do (for a failure). */
  readonly message: string;
  /** The error code `readImage` would throw for this failure. */
  readonly code?: ErrorCode;
}

/** What `verifyImage` returns: every check that could be run, in order, and its outcome. */
export interface ImageReport {
  /** True when every check passed (the image is one `readImage` accepts). */
  readonly ok: boolean;
  readonly checks: readonly ImageCheck[];
  /** Present when the header could be decoded. */
  readonly header?: ImageHeader;
  /** Present when the table could be decoded. */
  readonly tensors?: readonly ImageTensorEntry[];
  /** SHA-256 of the bytes as given. */
  readonly sha256: Uint8Array;
  /** Bytes given. */
  readonly byteLength: number;
}

/** What `checkImageMatches` compares; omitted fields are not checked. */
export interface ImageExpectation {
  readonly fingerprint?: Uint8Array;
  readonly layerRange?: readonly [from: number, to: number];
  readonly embedding?: boolean;
  /** `false` expects no classifier; a range expects exactly that vocab slice. */
  readonly vocab?: readonly [v0: number, v1: number] | false;
  /** @deprecated use `vocab` (read only when `vocab` is omitted). */
  readonly vocabRange?: readonly [v0: number, v1: number] | false;
  readonly kind?: QuantKind;
  readonly groupSize?: number;
  /** The KV cache format (`kv_format`). */
  readonly kv?: KvFormat;
}

/** Options of `buildImage` and `serializeStage`. */
export interface ImageOptions {
  /** The header's `build_id` (8 bytes); all zero when omitted (docs/image-format.md §3). */
  readonly buildId?: Uint8Array;
  /**
   * The header's `kv_format` (docs/numerics.md §6b): the plan's KV cache format, recorded in every
   * image of it, layers or not. Default: the stage's `kv`, else `'fp32'`.
   */
  readonly kv?: KvFormat;
  /**
   * A tokenizer to store in the image's tokenizer section (docs/image-format.md §4b): the board that
   * tokenizes (the first one of a standalone ring) gets it; its vocabulary must be the model's.
   */
  readonly tokenizer?: Tokenizer;
  /**
   * Board 0's story defaults to store (`story.defaults`, docs/image-format.md §4c): what a standalone
   * ring's driver tells when nobody types on its console. Values the readers refuse are refused here.
   */
  readonly story?: StoryDefaultsInput;
}
