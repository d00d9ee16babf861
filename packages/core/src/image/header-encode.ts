/**
 * Encoding the fixed 256-byte image header (docs/image-format.md §3), its CRC, and the table's extent.
 */

import { crc32c, type KvFormat, kvFormatCode } from '@tinypipe/protocol';
import {
  classifierAliasesEmbedding,
  FLAG_CLASSIFIER,
  FLAG_EMBEDDING,
  FLAG_STORY,
  FLAG_TOKENIZER,
  HEADER,
  IMAGE_ENTRY_BYTES,
  IMAGE_HEADER_BYTES,
  IMAGE_MAGIC,
  IMAGE_VERSION,
  quantBits,
  type StageLayout,
} from './format.js';

/** Number of tensors an image with this layout holds, without building the list. */
export function expectedTensorCount(s: StageLayout): number {
  const [from, to] = s.layerRange;
  let n = 0;
  if (s.embedding) n += 2;
  if (to > from) n += 2 + 16 * (to - from);
  if (s.vocab !== undefined) n += classifierAliasesEmbedding(s) ? 1 : 3;
  return n + (s.tokenizer ? 4 : 0) + (s.story ? 1 : 0);
}

/** End of the tensor table (= start of the data region) for `tensorCount` entries. */
export function tableEnd(tensorCount: number): number {
  return IMAGE_HEADER_BYTES + tensorCount * IMAGE_ENTRY_BYTES;
}

/** CRC-32C over header and table, skipping the 4 bytes of the CRC field itself. */
export function computeHeaderCrc(bytes: Uint8Array, end: number): number {
  const head = crc32c(bytes.subarray(0, HEADER.headerCrc));
  return crc32c(bytes.subarray(HEADER.headerCrc + 4, end), head);
}

/** Write the header fields (everything but the CRC) into `bytes[0, 256)`; version 3. */
export function encodeHeader(
  bytes: Uint8Array,
  layout: StageLayout,
  fingerprint: Uint8Array,
  imageSize: number,
  buildId?: Uint8Array,
  kv: KvFormat = 'fp32',
): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, IMAGE_HEADER_BYTES);
  const c = layout.config;
  const u32 = (at: number, v: number) => dv.setUint32(at, v, true);
  u32(HEADER.magic, IMAGE_MAGIC);
  u32(HEADER.version, IMAGE_VERSION);
  u32(HEADER.headerSize, IMAGE_HEADER_BYTES);
  bytes.set(fingerprint, HEADER.fingerprint);
  u32(HEADER.dim, c.dim);
  u32(HEADER.hiddenDim, c.hiddenDim);
  u32(HEADER.nLayers, c.nLayers);
  u32(HEADER.nHeads, c.nHeads);
  u32(HEADER.nKvHeads, c.nKvHeads);
  u32(HEADER.vocabSize, c.vocabSize);
  u32(HEADER.seqLen, c.seqLen);
  u32(HEADER.sharedClassifier, c.sharedClassifier ? 1 : 0);
  u32(HEADER.layerFrom, layout.layerRange[0]);
  u32(HEADER.layerTo, layout.layerRange[1]);
  const sections = (layout.tokenizer ? FLAG_TOKENIZER : 0) | (layout.story ? FLAG_STORY : 0);
  u32(
    HEADER.flags,
    (layout.embedding ? FLAG_EMBEDDING : 0) | (layout.vocab ? FLAG_CLASSIFIER : 0) | sections,
  );
  u32(HEADER.vocabFrom, layout.vocab?.[0] ?? 0);
  u32(HEADER.vocabTo, layout.vocab?.[1] ?? 0);
  u32(HEADER.quantBits, quantBits(layout.kind));
  u32(HEADER.groupSize, layout.groupSize);
  u32(HEADER.tensorCount, expectedTensorCount(layout));
  u32(HEADER.tableOffset, IMAGE_HEADER_BYTES);
  u32(HEADER.imageSize, imageSize);
  if (buildId) bytes.set(buildId, HEADER.buildId);
  u32(HEADER.kvFormat, kvFormatCode(kv));
  u32(HEADER.tokenizerMaxTokenLength, layout.tokenizer?.maxTokenLength ?? 0);
  u32(HEADER.tokenizerBytes, layout.tokenizer?.bytes ?? 0);
  u32(HEADER.storyBytes, layout.story?.bytes ?? 0);
}
