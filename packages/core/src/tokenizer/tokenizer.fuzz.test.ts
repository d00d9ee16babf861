/**
 * Property-based fuzzing of the tokenizer.bin reader and of the tokenizer it builds (issue 17, item 6):
 * arbitrary bytes, hostile length fields, valid files and their mutations, and encode/decode on
 * vocabularies read from fuzzed files. Replay a failure with the seed fast-check prints:
 * `FC_SEED=<seed> npx vitest run src/tokenizer`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { readTokenizer, type Tokenizer } from './tokenizer.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

const READ_CODES = ['TOKENIZER_TRUNCATED', 'TOKENIZER_BAD_FILE', 'TOKENIZER_VOCAB_MISMATCH'];

interface Entry {
  score: number;
  bytes: Uint8Array;
}

/** tokenizer.bin as llama2.c's tokenizer.py writes it: i32 max_token_length, then f32 score, i32 length, bytes. */
function tokenizerBytes(maxTokenLength: number, entries: readonly Entry[]): Uint8Array {
  const out = new Uint8Array(4 + entries.reduce((n, e) => n + 8 + e.bytes.length, 0));
  const v = new DataView(out.buffer);
  v.setInt32(0, maxTokenLength, true);
  let at = 4;
  for (const e of entries) {
    v.setFloat32(at, e.score, true);
    v.setInt32(at + 4, e.bytes.length, true);
    out.set(e.bytes, at + 8);
    at += 8 + e.bytes.length;
  }
  return out;
}

function readOrCode(bytes: Uint8Array, vocabSize?: number): Tokenizer | string {
  let t: Tokenizer | undefined;
  const code = codeOf(() => {
    t = readTokenizer(bytes, vocabSize);
  });
  return t ?? code;
}

const entryArb: fc.Arbitrary<Entry> = fc.record({
  score: fc.float({ noNaN: true }),
  bytes: fc.oneof(
    fc.uint8Array({ maxLength: 6 }),
    fc
      .constantFrom(' ', 'a', 'b', ' a', 'ab', 'ba', '<0x41>', '<0xZZ>', 'é')
      .map((s) => new TextEncoder().encode(s)),
  ),
});
const fileArb = fc.array(entryArb, { minLength: 1, maxLength: 40 }).map((entries) => ({
  entries,
  maxTokenLength: Math.max(1, ...entries.map((e) => e.bytes.length)),
}));

describe('tokenizer reader (fuzz)', () => {
  it('arbitrary bytes, with and without a vocab_size: a tokenizer or a TOKENIZER_* error', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
        (bytes, vocabSize) => {
          const r = readOrCode(bytes, vocabSize);
          if (typeof r === 'string') expect(READ_CODES).toContain(r);
          else if (vocabSize !== undefined) expect(r.vocabSize).toBe(vocabSize);
        },
      ),
      runs(3000),
    );
  });

  it('hostile length fields (2^31 − 1, negative, 2^16 + 1): a coded error, nothing allocated for them', () => {
    const hostile = fc.constantFrom(0x7fffffff, -1, -0x80000000, 0x10001, 0);
    fc.assert(
      fc.property(fileArb, hostile, fc.nat(), fc.boolean(), (f, bad, which, inHeader) => {
        const bytes = tokenizerBytes(f.maxTokenLength, f.entries);
        const v = new DataView(bytes.buffer);
        if (inHeader)
          v.setInt32(0, bad, true); // max_token_length 0 is hostile too, a token length 0 is not
        else if (bad === 0) return;
        else {
          let at = 4;
          for (let i = 0; i < which % f.entries.length; i++) at += 8 + f.entries[i]!.bytes.length;
          v.setInt32(at + 4, bad, true);
        }
        const r = readOrCode(bytes, f.entries.length);
        expect(READ_CODES).toContain(r);
      }),
      runs(1500),
    );
  });

  it('round trip: a written vocabulary reads back entry for entry', () => {
    fc.assert(
      fc.property(fileArb, (f) => {
        const bytes = tokenizerBytes(f.maxTokenLength, f.entries);
        for (const t of [readTokenizer(bytes, f.entries.length), readTokenizer(bytes)]) {
          expect(t.vocabSize).toBe(f.entries.length);
          expect(t.maxTokenLength).toBe(f.maxTokenLength);
          f.entries.forEach((e, id) => {
            expect(t.piece(id)).toEqual(e.bytes);
            expect(t.scores[id]).toBe(Math.fround(e.score));
          });
        }
      }),
      runs(1500),
    );
  });

  it('mutations: cut or extended files never read as the model’s vocabulary; flipped ones read or fail coded', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.uint8Array({ minLength: 1, maxLength: 9 }),
        (f, at, bit, extra) => {
          const bytes = tokenizerBytes(f.maxTokenLength, f.entries);
          const n = f.entries.length;
          expect(READ_CODES).toContain(readOrCode(bytes.subarray(0, at % bytes.length), n));
          expect(READ_CODES).toContain(readOrCode(Uint8Array.of(...bytes, ...extra), n));
          const flipped = bytes.slice();
          flipped[at % bytes.length]! ^= 1 << bit;
          const r = readOrCode(flipped, n);
          if (typeof r === 'string') expect(READ_CODES).toContain(r);
          else expect(r.vocabSize).toBe(n);
        },
      ),
      runs(1500),
    );
  });

  it('a vocabulary read from a fuzzed file encodes any text to ids inside it, or fails coded; decodes any ids', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.array(fc.integer({ min: -2, max: 50 }), { maxLength: 10 }),
        fc.boolean(),
        (f, text, ids, bos) => {
          const t = readTokenizer(tokenizerBytes(f.maxTokenLength, f.entries), f.entries.length);
          let tokens: number[] = [];
          const code = codeOf(() => {
            tokens = t.encode(text, { bos, eos: !bos });
          });
          if (code !== 'NO ERROR') expect(code).toBe('TOKENIZER_BAD_FILE');
          for (const id of tokens)
            expect(id >= 0 && id < t.vocabSize, `id ${id} of ${t.vocabSize}`).toBe(true);
          const decoded = codeOf(() => t.decode(ids));
          const inRange = ids.every((id) => id >= 0 && id < t.vocabSize);
          expect(decoded).toBe(inRange ? 'NO ERROR' : 'TOKEN_OUT_OF_RANGE');
        },
      ),
      runs(1500),
    );
  });

  it('regression: a vocabulary too small for byte fallback (or BOS/EOS) is a bad file, not ids past its end', () => {
    // found by the fuzzer: encode pushed byte-fallback ids (byte + 3) and BOS/EOS whatever the vocabulary
    // size, handing the engine tokens outside [0, vocab_size)
    const enc = (s: string) => new TextEncoder().encode(s);
    const t = readTokenizer(
      tokenizerBytes(
        1,
        [' ', 'a', 'b'].map((s) => ({ score: 0, bytes: enc(s) })),
      ),
      3,
    );
    // BOS, the dummy-prefix ' ', 'a', 'b', EOS
    expect(t.encode('ab', { bos: true, eos: true })).toEqual([1, 0, 1, 2, 2]);
    expect(codeOf(() => t.encode('c', { bos: false, eos: false }))).toBe('TOKENIZER_BAD_FILE');
    expect(() => t.encode('c', { bos: false, eos: false })).toThrow(/byte-fallback token <0x63> \(id 102\)/);
    const two = readTokenizer(
      tokenizerBytes(
        1,
        [' ', 'a'].map((s) => ({ score: 0, bytes: enc(s) })),
      ),
      2,
    );
    expect(() => two.encode('a', { bos: false, eos: true })).toThrow(/too few for EOS \(id 2\)/);
  });
});
