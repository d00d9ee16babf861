/**
 * The tokenizer section of a weight image (docs/image-format.md §4b): its two header fields, the four
 * `tokenizer.*` tensors written from a `Tokenizer`, and the `Tokenizer` read back from them.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { tokenizerFromSection, tokenizerSection } from '../tokenizer/section.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { HEADER, type TokenizerLayout } from './format.js';
import type { ImageHeader, ImageTensorEntry } from './types.js';

/** The longest max_token_length the section takes (as `readTokenizer` does). */
const MAX_TOKEN_LENGTH = 1 << 16;

/**
 * The tokenizer fields of a header whose flags were checked: with the tokenizer flag, max_token_length in
 * [1, 65536] and a bytes length of at least 1; without it (and in versions 1 and 2, where these bytes are
 * reserved), both 0. Throws `IMAGE_BAD_HEADER`.
 */
export function decodeTokenizerFields(
  dv: DataView,
  version: number,
  flag: boolean,
): TokenizerLayout | undefined {
  if (version < 3) return undefined; // the reserved-zero check covered these bytes
  const maxTokenLength = dv.getUint32(HEADER.tokenizerMaxTokenLength, true);
  const bytes = dv.getUint32(HEADER.tokenizerBytes, true);
  const ok = flag
    ? maxTokenLength >= 1 && maxTokenLength <= MAX_TOKEN_LENGTH && bytes >= 1
    : maxTokenLength === 0 && bytes === 0;
  if (!ok) {
    throw new TinypipeError(
      'IMAGE_BAD_HEADER',
      `weight image header: tokenizer max_token_length ${maxTokenLength} and bytes ${bytes} ` +
        (flag ? `must be 1..${MAX_TOKEN_LENGTH} and >= 1` : 'must be 0 without the tokenizer flag') +
        '. The image is corrupt or was not written by a compatible tinypipe; rebuild it.',
      { details: { field: 'tokenizer', maxTokenLength, bytes, flag } },
    );
  }
  return flag ? { maxTokenLength, bytes } : undefined;
}

/** The section's layout and its four tensors' bytes, in table order (scores, offsets, sorted, bytes). */
export function tokenizerTensors(
  tokenizer: Tokenizer,
  vocabSize: number,
): { layout: TokenizerLayout; sources: Uint8Array[] } {
  if (tokenizer.vocabSize !== vocabSize) {
    throw new TinypipeError(
      'TOKENIZER_VOCAB_MISMATCH',
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${vocabSize}: ` +
        'give the image the tokenizer the model was trained with',
      { details: { tokenizerTokens: tokenizer.vocabSize, vocabSize } },
    );
  }
  const s = tokenizerSection(tokenizer);
  if (s.bytes.length === 0) {
    throw new TinypipeError('TOKENIZER_BAD_FILE', 'every piece of the tokenizer is empty: nothing to store');
  }
  tokenizerFromSection(s); // what the reader (and the firmware) would refuse is not written
  const le = (a: Float32Array | Uint32Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return {
    layout: { maxTokenLength: s.maxTokenLength, bytes: s.bytes.length },
    sources: [le(s.scores), le(s.offsets), le(s.sorted), s.bytes],
  };
}

/**
 * The tokenizer of a validated image (4-aligned bytes, little-endian host), checked as the firmware's
 * tp_image_tokenizer checks it. Throws `IMAGE_BAD_TABLE` when the section is inconsistent (offsets,
 * piece lengths, or a sorted index that is not the order the host computes).
 */
export function readTokenizerSection(
  bytes: Uint8Array,
  header: ImageHeader,
  tensors: readonly ImageTensorEntry[],
): Tokenizer | undefined {
  if (!header.tokenizer) return undefined;
  const at = (name: string) => tensors.find((t) => t.name === `tokenizer.${name}`) as ImageTensorEntry;
  const view = <T>(
    name: string,
    make: (buf: ArrayBufferLike, off: number, n: number) => T,
    size: number,
  ): T => {
    const t = at(name);
    return make(bytes.buffer, bytes.byteOffset + t.offset, t.byteLength / size);
  };
  try {
    return tokenizerFromSection({
      vocabSize: header.config.vocabSize,
      maxTokenLength: header.tokenizer.maxTokenLength,
      scores: view('scores', (b, o, n) => new Float32Array(b, o, n), 4),
      offsets: view('offsets', (b, o, n) => new Uint32Array(b, o, n), 4),
      sorted: view('sorted', (b, o, n) => new Uint32Array(b, o, n), 4),
      bytes: view('bytes', (b, o, n) => new Uint8Array(b, o, n), 1),
    });
  } catch (cause) {
    throw new TinypipeError(
      'IMAGE_BAD_TABLE',
      `weight image tokenizer section: ${(cause as Error).message}`,
      { cause, details: { tensor: 'tokenizer' } },
    );
  }
}
