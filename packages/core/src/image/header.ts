/**
 * Decoding and validation of the fixed 256-byte image header (docs/image-format.md §3); the encoding is in
 * header-encode.ts.
 */

import { kvFormatOf, TinypipeError } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';
import { FINGERPRINT_BYTES } from '../fingerprint/fingerprint.js';
import { withVocabRangeAlias } from '../quant/vocab-alias.js';
import {
  FLAG_CLASSIFIER,
  FLAG_EMBEDDING,
  FLAG_STORY,
  FLAG_TOKENIZER,
  HEADER,
  IMAGE_BUILD_ID_BYTES,
  IMAGE_HEADER_BYTES,
  IMAGE_MAGIC,
  IMAGE_VERSIONS,
  MAX_GROUP_SIZE,
  type StageLayout,
} from './format.js';
import { expectedTensorCount, tableEnd } from './header-encode.js';
import { decodeStoryField } from './story-section.js';
import { decodeTokenizerFields } from './tokenizer-section.js';
import type { ImageHeader } from './types.js';

export { computeHeaderCrc, expectedTensorCount, tableEnd } from './header-encode.js';

const INT32_MAX = 0x7fffffff;

function badHeader(what: string, details: Record<string, unknown>): TinypipeError {
  return new TinypipeError(
    'IMAGE_BAD_HEADER',
    `weight image header: ${what}. The image is corrupt or was not written by a compatible tinypipe; rebuild it.`,
    { details },
  );
}

function badRange(what: string, details: Record<string, unknown>): TinypipeError {
  return new TinypipeError(
    'IMAGE_BAD_RANGE',
    `weight image header: ${what}. Rebuild the image with a range inside the model.`,
    { details },
  );
}

/** Magic check: `IMAGE_BAD_MAGIC` unless the image starts with "TPIM". Needs 4 bytes. */
export function checkMagic(dv: DataView): void {
  const magic = dv.getUint32(HEADER.magic, true);
  if (magic !== IMAGE_MAGIC) {
    throw new TinypipeError(
      'IMAGE_BAD_MAGIC',
      `not a tinypipe weight image: magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0x${IMAGE_MAGIC.toString(16)} ("TPIM"). ` +
        'Pass an image made by `tinypipe quantize --out` or `tinypipe build` (a llama2.c checkpoint is not an image: `tinypipe inspect` reads those).',
      { details: { expected: IMAGE_MAGIC, actual: magic } },
    );
  }
}

/** Version check: `IMAGE_BAD_VERSION` unless the version is one this code reads. */
export function checkVersion(dv: DataView): void {
  const version = dv.getUint32(HEADER.version, true);
  if (!IMAGE_VERSIONS.includes(version)) {
    throw new TinypipeError(
      'IMAGE_BAD_VERSION',
      `weight image format version ${version} is not supported (this build reads versions ${IMAGE_VERSIONS.join(' and ')}). ` +
        'Rebuild the image with this version of tinypipe, or upgrade tinypipe.',
      { details: { expected: IMAGE_VERSIONS, actual: version } },
    );
  }
}

/**
 * Decode and validate every header field (magic and version must already have been checked).
 * Throws `IMAGE_BAD_HEADER` for impossible values and `IMAGE_BAD_RANGE` for layer or vocab ranges
 * outside the model (or a stage that holds nothing).
 */
export function decodeHeader(bytes: Uint8Array): ImageHeader {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, IMAGE_HEADER_BYTES);
  const u32 = (at: number) => dv.getUint32(at, true);

  const headerSize = u32(HEADER.headerSize);
  if (headerSize !== IMAGE_HEADER_BYTES) {
    throw badHeader(`header_size is ${headerSize}, expected ${IMAGE_HEADER_BYTES}`, {
      field: 'header_size',
      expected: IMAGE_HEADER_BYTES,
      actual: headerSize,
    });
  }
  const version = u32(HEADER.version);
  // version 1 has no build id, version 2 no kv_format: their reserved areas start where those fields are
  const reservedFrom = version === 1 ? HEADER.buildId : version === 2 ? HEADER.kvFormat : HEADER.reserved;
  for (let at = reservedFrom; at < IMAGE_HEADER_BYTES; at++) {
    if (bytes[at] !== 0) {
      throw badHeader(`reserved byte at offset 0x${at.toString(16)} is ${bytes[at]}, expected 0`, {
        field: 'reserved',
        offset: at,
      });
    }
  }

  const kvCode = version >= 3 ? u32(HEADER.kvFormat) : 0;
  const kv = kvFormatOf(kvCode);
  if (kv === undefined)
    throw badHeader(`kv_format is ${kvCode}, expected 0 (fp32), 1 (fp16) or 2 (int8)`, {
      field: 'kv_format',
      actual: kvCode,
    });

  const ints = {
    dim: u32(HEADER.dim),
    hidden_dim: u32(HEADER.hiddenDim),
    n_layers: u32(HEADER.nLayers),
    n_heads: u32(HEADER.nHeads),
    n_kv_heads: u32(HEADER.nKvHeads),
    vocab_size: u32(HEADER.vocabSize),
    seq_len: u32(HEADER.seqLen),
  };
  for (const [field, v] of Object.entries(ints)) {
    if (v < 1 || v > INT32_MAX) {
      throw badHeader(`${field} is ${v}, expected 1..${INT32_MAX}`, { field, actual: v });
    }
  }
  const shared = u32(HEADER.sharedClassifier);
  if (shared > 1)
    throw badHeader(`shared_classifier is ${shared}, expected 0 or 1`, {
      field: 'shared_classifier',
      actual: shared,
    });
  const config: ModelConfig = {
    dim: ints.dim,
    hiddenDim: ints.hidden_dim,
    nLayers: ints.n_layers,
    nHeads: ints.n_heads,
    nKvHeads: ints.n_kv_heads,
    vocabSize: ints.vocab_size,
    seqLen: ints.seq_len,
    sharedClassifier: shared === 1,
  };
  if (config.dim % config.nHeads !== 0 || (config.dim / config.nHeads) % 2 !== 0) {
    throw badHeader(`dim ${config.dim} is not n_heads ${config.nHeads} times an even head size`, {
      field: 'dim',
      dim: config.dim,
      nHeads: config.nHeads,
    });
  }
  if (config.nKvHeads > config.nHeads || config.nHeads % config.nKvHeads !== 0) {
    throw badHeader(`n_kv_heads ${config.nKvHeads} does not divide n_heads ${config.nHeads}`, {
      field: 'n_kv_heads',
      nHeads: config.nHeads,
      nKvHeads: config.nKvHeads,
    });
  }

  const bits = u32(HEADER.quantBits);
  if (bits !== 4 && bits !== 8)
    throw badHeader(`quant_bits is ${bits}, expected 4 or 8`, { field: 'quant_bits', actual: bits });
  const kind = bits === 4 ? 'q4' : 'q8';
  const groupSize = u32(HEADER.groupSize);
  if (groupSize < 1 || groupSize > MAX_GROUP_SIZE) {
    throw badHeader(`group_size ${groupSize} is outside [1, ${MAX_GROUP_SIZE}]`, {
      field: 'group_size',
      actual: groupSize,
    });
  }
  if (kind === 'q4' && config.hiddenDim % 2 !== 0) {
    throw badHeader(`hidden_dim ${config.hiddenDim} is odd, so int4 rows cannot be packed two per byte`, {
      field: 'hidden_dim',
      actual: config.hiddenDim,
    });
  }

  const flags = u32(HEADER.flags);
  const known = FLAG_EMBEDDING | FLAG_CLASSIFIER | (version >= 3 ? FLAG_TOKENIZER | FLAG_STORY : 0);
  if ((flags & ~known) !== 0) {
    throw badHeader(`flags 0x${flags.toString(16)} has unknown bits set`, { field: 'flags', actual: flags });
  }
  const from = u32(HEADER.layerFrom);
  const to = u32(HEADER.layerTo);
  if (from > to || to > config.nLayers) {
    throw badRange(`layer range [${from}, ${to}) is not inside the model's ${config.nLayers} layers`, {
      field: 'layer_range',
      from,
      to,
      nLayers: config.nLayers,
    });
  }
  const v0 = u32(HEADER.vocabFrom);
  const v1 = u32(HEADER.vocabTo);
  const hasClassifier = (flags & FLAG_CLASSIFIER) !== 0;
  if (hasClassifier && (v0 >= v1 || v1 > config.vocabSize)) {
    throw badRange(
      `classifier vocab range [${v0}, ${v1}) is not a non-empty range inside vocab_size ${config.vocabSize}`,
      {
        field: 'vocab_range',
        v0,
        v1,
        vocabSize: config.vocabSize,
      },
    );
  }
  if (!hasClassifier && (v0 !== 0 || v1 !== 0)) {
    throw badHeader(`vocab range [${v0}, ${v1}) is set but the classifier flag is not`, {
      field: 'vocab_range',
      v0,
      v1,
    });
  }
  const embedding = (flags & FLAG_EMBEDDING) !== 0;
  if (from === to && !embedding && !hasClassifier) {
    throw badRange('the stage holds no layers, no embedding and no classifier', {
      field: 'layer_range',
      from,
      to,
    });
  }

  const layout: StageLayout = withVocabRangeAlias({
    config,
    kind,
    groupSize,
    layerRange: [from, to],
    embedding,
    vocab: hasClassifier ? [v0, v1] : undefined,
    tokenizer: decodeTokenizerFields(dv, version, (flags & FLAG_TOKENIZER) !== 0),
    story: decodeStoryField(dv, version, (flags & FLAG_STORY) !== 0),
  });
  const tensorCount = u32(HEADER.tensorCount);
  const expectedCount = expectedTensorCount(layout);
  if (tensorCount !== expectedCount) {
    throw badHeader(`tensor_count is ${tensorCount}, expected ${expectedCount} for this stage`, {
      field: 'tensor_count',
      expected: expectedCount,
      actual: tensorCount,
    });
  }
  const tableOffset = u32(HEADER.tableOffset);
  if (tableOffset !== IMAGE_HEADER_BYTES) {
    throw badHeader(`table_offset is ${tableOffset}, expected ${IMAGE_HEADER_BYTES}`, {
      field: 'table_offset',
      expected: IMAGE_HEADER_BYTES,
      actual: tableOffset,
    });
  }
  const imageSize = u32(HEADER.imageSize);
  const end = tableEnd(tensorCount);
  if (imageSize <= end) {
    throw badHeader(
      `image_size ${imageSize} leaves no room for tensor data after the table (ends at ${end})`,
      {
        field: 'image_size',
        actual: imageSize,
        tableEnd: end,
      },
    );
  }

  return withVocabRangeAlias({
    version,
    headerSize,
    headerCrc: u32(HEADER.headerCrc),
    fingerprint: bytes.slice(HEADER.fingerprint, HEADER.fingerprint + FINGERPRINT_BYTES),
    buildId: bytes.slice(HEADER.buildId, HEADER.buildId + IMAGE_BUILD_ID_BYTES),
    kv,
    config,
    layerRange: [from, to],
    embedding,
    vocab: layout.vocab,
    ...(layout.tokenizer ? { tokenizer: layout.tokenizer } : {}),
    ...(layout.story ? { story: layout.story } : {}),
    kind,
    groupSize,
    tensorCount,
    tableOffset,
    imageSize,
  });
}

/** The layout facts of a decoded header. */
export function layoutOf(h: ImageHeader): StageLayout {
  return withVocabRangeAlias({
    config: h.config,
    kind: h.kind,
    groupSize: h.groupSize,
    layerRange: h.layerRange,
    embedding: h.embedding,
    vocab: h.vocab,
    tokenizer: h.tokenizer,
    story: h.story,
  });
}
