/**
 * The tokenizer as the weight image stores it for a board that tokenizes (docs/image-format.md §4b): flat
 * arrays a C reader uses in place, and the sorted index its binary search needs, computed here once.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { Tokenizer } from './tokenizer.js';

/** A tokenizer's vocabulary as flat arrays (the image's `tokenizer.*` tensors). */
export interface TokenizerSection {
  /** Number of tokens. */
  vocabSize: number;
  /** llama2.c's max_token_length: no piece is longer. */
  maxTokenLength: number;
  /** (vocabSize) merge scores. */
  scores: Float32Array;
  /** (vocabSize + 1) piece i is `bytes[offsets[i], offsets[i + 1])`; offsets[0] = 0. */
  offsets: Uint32Array;
  /** The pieces back to back. */
  bytes: Uint8Array;
  /**
   * (vocabSize) the ids ordered by their piece's bytes (unsigned, a proper prefix first), equal pieces by
   * id: a binary search for a string finds its lowest id, the one `Tokenizer.encode` uses.
   */
  sorted: Uint32Array;
}

/** -1, 0 or 1: `a` against `b` byte by byte, unsigned, a proper prefix first. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

/** The ids of `pieces` in the section's sorted order. */
function sortedIds(pieces: readonly Uint8Array[]): Uint32Array {
  const ids = Array.from(pieces.keys());
  ids.sort((x, y) => compareBytes(pieces[x]!, pieces[y]!) || x - y);
  return Uint32Array.from(ids);
}

/** Flattens `tokenizer` into the arrays of its image section, with the sorted index. */
export function tokenizerSection(tokenizer: Tokenizer): TokenizerSection {
  const pieces = Array.from({ length: tokenizer.vocabSize }, (_, id) => tokenizer.piece(id));
  const offsets = new Uint32Array(pieces.length + 1);
  pieces.forEach((p, i) => {
    offsets[i + 1] = offsets[i]! + p.length;
  });
  const bytes = new Uint8Array(offsets[pieces.length]!);
  pieces.forEach((p, i) => {
    bytes.set(p, offsets[i]!);
  });
  return {
    vocabSize: pieces.length,
    maxTokenLength: tokenizer.maxTokenLength,
    scores: Float32Array.from(tokenizer.scores),
    offsets,
    bytes,
    sorted: sortedIds(pieces),
  };
}

/**
 * The tokenizer a section holds, after checking it the way the firmware does (tp_tokenizer_init): offsets
 * from 0, never decreasing, ending at the bytes' length, no piece longer than maxTokenLength, and `sorted`
 * exactly the order `tokenizerSection` computes.
 * @throws TinypipeError TOKENIZER_BAD_FILE naming the first rule broken
 */
export function tokenizerFromSection(section: TokenizerSection): Tokenizer {
  const { vocabSize, maxTokenLength, scores, offsets, bytes, sorted } = section;
  const bad = (why: string): TinypipeError =>
    new TinypipeError(
      'TOKENIZER_BAD_FILE',
      `the image's tokenizer section is inconsistent (${why}): rebuild the image with tinypipe build`,
      { details: { vocabSize, maxTokenLength } },
    );
  if (!Number.isSafeInteger(vocabSize) || vocabSize < 1) throw bad(`vocab size ${vocabSize}`);
  if (!Number.isSafeInteger(maxTokenLength) || maxTokenLength < 1 || maxTokenLength > 1 << 16) {
    throw bad(`max_token_length ${maxTokenLength}`);
  }
  if (scores.length !== vocabSize || offsets.length !== vocabSize + 1 || sorted.length !== vocabSize) {
    throw bad('array lengths do not match the vocab size');
  }
  if (offsets[0] !== 0 || offsets[vocabSize] !== bytes.length) throw bad('offsets do not span the bytes');
  const entries = Array.from({ length: vocabSize }, (_, i) => {
    const from = offsets[i]!;
    const to = offsets[i + 1]!;
    if (to < from || to - from > maxTokenLength) throw bad(`piece ${i} spans [${from}, ${to})`);
    return { score: scores[i]!, bytes: bytes.subarray(from, to) };
  });
  const expected = sortedIds(entries.map((e) => e.bytes));
  const at = expected.findIndex((id, i) => sorted[i] !== id);
  if (at >= 0) throw bad(`sorted index entry ${at} is ${sorted[at]}, expected ${expected[at]}`);
  return new Tokenizer(entries, maxTokenLength);
}
