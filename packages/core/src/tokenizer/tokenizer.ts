/**
 * llama2.c's tokenizer, reproduced exactly (run.c: build_tokenizer, encode, decode, safe_printf).
 *
 * tokenizer.bin: int32 max_token_length, then per token: fp32 score, int32 byte length, the bytes.
 * The file does not store the token count: the model's vocab_size says how many entries to read.
 */
import { TinypipeError } from '@tinypipe/protocol';

/** Token ids fixed by the Llama 2 vocabulary. */
export const BOS = 1;
export const EOS = 2;
/** Byte-fallback tokens `<0x00>`…`<0xFF>` are ids 3…258. */
const BYTE_FALLBACK_OFFSET = 3;

export interface EncodeOptions {
  /** Prepend BOS (1). */
  bos: boolean;
  /** Append EOS (2). */
  eos: boolean;
}

interface Entry {
  score: number;
  bytes: Uint8Array;
}

/** Scans entries from offset 4; stops at the end of the file, at `limit` entries, or at damage. */
function scanEntries(
  bytes: Uint8Array,
  limit: number,
): { entries: Entry[]; end: number; error?: TinypipeError } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: Entry[] = [];
  let at = 4;
  while (entries.length < limit && at < bytes.length) {
    if (at + 8 > bytes.length) {
      return {
        entries,
        end: at,
        error: new TinypipeError(
          'TOKENIZER_TRUNCATED',
          `tokenizer file ends inside the header of token ${entries.length} (offset ${at})`,
          {
            details: { offset: at, token: entries.length },
          },
        ),
      };
    }
    const score = view.getFloat32(at, true);
    const len = view.getInt32(at + 4, true);
    if (len < 0 || len > 1 << 16) {
      return {
        entries,
        end: at,
        error: new TinypipeError(
          'TOKENIZER_BAD_FILE',
          `token ${entries.length} has an impossible length ${len} (offset ${at + 4}): not a llama2.c tokenizer.bin`,
          {
            details: { offset: at + 4, token: entries.length, length: len },
          },
        ),
      };
    }
    if (at + 8 + len > bytes.length) {
      return {
        entries,
        end: at,
        error: new TinypipeError(
          'TOKENIZER_TRUNCATED',
          `tokenizer file ends inside token ${entries.length} (needs ${len} bytes at offset ${at + 8})`,
          {
            details: { offset: at + 8, token: entries.length },
          },
        ),
      };
    }
    entries.push({ score, bytes: bytes.subarray(at + 8, at + 8 + len) });
    at += 8 + len;
  }
  return { entries, end: at };
}

/** Latin-1 key of a byte string: one JS char per byte, so keys concatenate like the bytes do. */
function keyOf(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

const HELP =
  'use the tokenizer trained with the model (llama2.c: tok512.bin for stories260K, tokenizer.bin for the 32000-token Llama 2 vocabulary)';

/**
 * Reads a llama2.c `tokenizer.bin` for a model with `vocabSize` tokens. Without `vocabSize`, the file is
 * read to its end and its entry count is the vocabulary size.
 *
 * @throws TinypipeError TOKENIZER_TRUNCATED, TOKENIZER_BAD_FILE, TOKENIZER_VOCAB_MISMATCH (the file holds a
 *   different number of tokens than the model's vocab_size), INVALID_ARGUMENT (bad vocabSize)
 */
export function readTokenizer(bytes: Uint8Array, vocabSize?: number): Tokenizer {
  if (vocabSize !== undefined && (!Number.isSafeInteger(vocabSize) || vocabSize <= 0)) {
    throw new TinypipeError('INVALID_ARGUMENT', `vocabSize must be a positive integer, got ${vocabSize}`);
  }
  if (bytes.length < 4) {
    throw new TinypipeError(
      'TOKENIZER_TRUNCATED',
      `tokenizer file has ${bytes.length} bytes: too short for its 4-byte header`,
    );
  }
  const maxTokenLength = new DataView(bytes.buffer, bytes.byteOffset, 4).getInt32(0, true);
  if (maxTokenLength <= 0 || maxTokenLength > 1 << 16) {
    throw new TinypipeError(
      'TOKENIZER_BAD_FILE',
      `max_token_length ${maxTokenLength} is impossible: not a llama2.c tokenizer.bin`,
    );
  }
  const scan = scanEntries(bytes, vocabSize ?? Number.POSITIVE_INFINITY);
  const fileCount = (): string => {
    const all = scanEntries(bytes, Number.POSITIVE_INFINITY);
    return all.error ? `at least ${all.entries.length}` : String(all.entries.length);
  };
  if (
    vocabSize !== undefined &&
    scan.entries.length < vocabSize &&
    (scan.end === bytes.length || !scan.error)
  ) {
    throw new TinypipeError(
      'TOKENIZER_VOCAB_MISMATCH',
      `the tokenizer has ${scan.entries.length} tokens but the model's vocab_size is ${vocabSize}: ${HELP}`,
      { details: { tokenizerTokens: scan.entries.length, vocabSize } },
    );
  }
  if (scan.error) throw scan.error;
  if (scan.end !== bytes.length) {
    throw new TinypipeError(
      'TOKENIZER_VOCAB_MISMATCH',
      `the tokenizer has ${fileCount()} tokens but the model's vocab_size is ${vocabSize}: ${HELP}`,
      { details: { vocabSize } },
    );
  }
  for (const [id, e] of scan.entries.entries()) {
    if (e.bytes.length > maxTokenLength) {
      throw new TinypipeError(
        'TOKENIZER_BAD_FILE',
        `token ${id} is ${e.bytes.length} bytes, longer than max_token_length ${maxTokenLength}`,
      );
    }
  }
  return new Tokenizer(scan.entries, maxTokenLength);
}

/** A loaded llama2.c vocabulary: encode text to token ids and decode ids to the bytes run.c prints. */
export class Tokenizer {
  /** Number of tokens. */
  readonly vocabSize: number;
  readonly maxTokenLength: number;
  /** (vocab_size) merge scores */
  readonly scores: Float32Array;
  readonly #pieces: Uint8Array[];
  readonly #keys: string[];
  readonly #ids: Map<string, number>;

  /** Use `readTokenizer`. */
  constructor(entries: readonly { score: number; bytes: Uint8Array }[], maxTokenLength: number) {
    this.vocabSize = entries.length;
    this.maxTokenLength = maxTokenLength;
    this.scores = Float32Array.from(entries, (e) => e.score);
    this.#pieces = entries.map((e) => e.bytes);
    this.#keys = this.#pieces.map(keyOf);
    this.#ids = new Map();
    // llama2.c looks strings up with bsearch; no bundled vocabulary has duplicate strings, so the first
    // id of a string is the one bsearch finds too.
    this.#keys.forEach((k, id) => {
      if (!this.#ids.has(k)) this.#ids.set(k, id);
    });
  }

  /** The raw bytes of token `id` as stored in the vocabulary. */
  piece(id: number): Uint8Array {
    this.#check(id);
    return this.#pieces[id]!;
  }

  /**
   * llama2.c `encode`: UTF-8 bytes of `text` (up to a NUL, as C strings end there), optional BOS, the
   * dummy-prefix " " token when the text is not empty, each UTF-8 code point looked up (unknown ones fall
   * back to byte tokens id = byte + 3), then the adjacent pair whose merge has the best score is merged
   * until none remains (the first pair wins ties), optional EOS.
   */
  encode(text: string, options: EncodeOptions): number[] {
    return this.encodeBytes(new TextEncoder().encode(text), options);
  }

  /**
   * `encode` of raw bytes, as run.c's encode sees a C string: the bytes up to the first NUL, which need
   * not be valid UTF-8 (a stray continuation byte is a code point of its own).
   */
  encodeBytes(text: Uint8Array, options: EncodeOptions): number[] {
    let bytes = text;
    const nul = bytes.indexOf(0);
    if (nul >= 0) bytes = bytes.subarray(0, nul);

    const tokens: number[] = [];
    if (options.bos) tokens.push(this.#known(BOS, 'BOS'));
    if (bytes.length > 0) tokens.push(this.#lookup(' '));

    let start = 0;
    for (let i = 0; i < bytes.length; i++) {
      // a code point ends where the next byte is not a continuation byte, or after 4 bytes
      const next = i + 1 < bytes.length ? bytes[i + 1]! : 0;
      if ((bytes[i]! & 0xc0) !== 0x80) start = i;
      if ((next & 0xc0) === 0x80 && i + 1 - start < 4) continue;
      const cp = bytes.subarray(start, i + 1);
      const id = this.#ids.get(keyOf(cp));
      if (id !== undefined) tokens.push(id);
      else
        for (const b of cp)
          tokens.push(
            this.#known(
              b + BYTE_FALLBACK_OFFSET,
              `the byte-fallback token <0x${b.toString(16).padStart(2, '0').toUpperCase()}>`,
            ),
          );
      start = i + 1; // a stray continuation byte starts a code point of its own
    }

    for (;;) {
      let bestScore = Math.fround(-1e10);
      let bestId = -1;
      let bestIdx = -1;
      for (let i = 0; i + 1 < tokens.length; i++) {
        const id = this.#ids.get(this.#keys[tokens[i]!]! + this.#keys[tokens[i + 1]!]!);
        if (id !== undefined && this.scores[id]! > bestScore) {
          bestScore = this.scores[id]!;
          bestId = id;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      tokens.splice(bestIdx, 2, bestId);
    }
    if (options.eos) tokens.push(this.#known(EOS, 'EOS'));
    return tokens;
  }

  /**
   * llama2.c `decode(prev, token)`: the piece's bytes, without its leading space right after BOS, and
   * `<0xNN>` byte tokens turned into the byte NN.
   */
  decodePiece(prev: number, token: number): Uint8Array {
    let piece = this.piece(token);
    if (prev === BOS && piece[0] === 0x20) piece = piece.subarray(1);
    const m = /^<0x([0-9A-Fa-f]{1,2})/.exec(keyOf(piece));
    return m ? Uint8Array.of(Number.parseInt(m[1]!, 16)) : piece;
  }

  /**
   * The text run.c prints for `tokens` (generated after `prev`, BOS by default), each piece filtered by
   * `printableBytes`, the bytes decoded as UTF-8.
   */
  decode(tokens: readonly number[], prev: number = BOS): string {
    const decoder = new PieceDecoder();
    let text = '';
    for (const token of tokens) {
      text += decoder.push(this.decodePiece(prev, token));
      prev = token;
    }
    return text + decoder.flush();
  }

  #lookup(s: string): number {
    const id = this.#ids.get(s);
    if (id === undefined) {
      throw new TinypipeError(
        'TOKENIZER_BAD_FILE',
        `the vocabulary has no ${JSON.stringify(s)} token, which llama2.c's encoder needs`,
      );
    }
    return id;
  }

  /** `id` when the vocabulary has it; a vocabulary too small for the ids llama2.c fixes is a bad file. */
  #known(id: number, what: string): number {
    if (id >= this.vocabSize) {
      throw new TinypipeError(
        'TOKENIZER_BAD_FILE',
        `the vocabulary has ${this.vocabSize} tokens, too few for ${what} (id ${id}), which llama2.c's encoder needs: ${HELP}`,
        { details: { token: id, vocabSize: this.vocabSize } },
      );
    }
    return id;
  }

  #check(id: number): void {
    if (!Number.isInteger(id) || id < 0 || id >= this.vocabSize) {
      throw new TinypipeError(
        'TOKEN_OUT_OF_RANGE',
        `token id ${id} is outside the vocabulary [0, ${this.vocabSize})`,
        {
          details: { token: id, vocabSize: this.vocabSize },
        },
      );
    }
  }
}

/**
 * run.c's `safe_printf` filter: an empty piece prints nothing; a single-byte piece prints only when the
 * byte is printable ASCII or whitespace (C locale `isprint || isspace`); longer pieces print as they are.
 */
export function printableBytes(piece: Uint8Array): Uint8Array {
  if (piece.length !== 1) return piece;
  const b = piece[0]!;
  const printable = (b >= 0x20 && b <= 0x7e) || (b >= 0x09 && b <= 0x0d);
  return printable ? piece : piece.subarray(0, 0);
}

/**
 * Turns printed pieces into text: applies `printableBytes` and decodes UTF-8 as a stream, so a character
 * split across pieces comes out whole, once complete. Invalid sequences become U+FFFD.
 */
export class PieceDecoder {
  readonly #decoder = new TextDecoder('utf-8');

  /** The complete characters available after this piece. */
  push(piece: Uint8Array): string {
    return this.#decoder.decode(printableBytes(piece), { stream: true });
  }

  /** Whatever incomplete sequence remains (as U+FFFD), at the end of a stream. */
  flush(): string {
    return this.#decoder.decode();
  }
}
