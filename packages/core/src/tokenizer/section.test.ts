import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { type TokenizerSection, tokenizerFromSection, tokenizerSection } from './section.js';
import { readTokenizer } from './tokenizer.js';

const file = (name: string) =>
  new Uint8Array(readFileSync(fileURLToPath(new URL(`../../../../models/${name}`, import.meta.url))));
const tokenizers = {
  'tok512.bin': readTokenizer(file('tok512.bin'), 512),
  'tokenizer.bin': readTokenizer(file('tokenizer.bin'), 32000),
};

describe('tokenizerSection', () => {
  for (const [name, tok] of Object.entries(tokenizers)) {
    it(`${name}: pieces and scores at their offsets, sorted ascending by (bytes, id)`, () => {
      const s = tokenizerSection(tok);
      expect(s.vocabSize).toBe(tok.vocabSize);
      expect(s.maxTokenLength).toBe(tok.maxTokenLength);
      for (let id = 0; id < tok.vocabSize; id++) {
        expect(s.bytes.subarray(s.offsets[id], s.offsets[id + 1])).toEqual(tok.piece(id));
        expect(s.scores[id]).toBe(tok.scores[id]);
      }
      expect(new Set(s.sorted).size).toBe(tok.vocabSize);
      // latin-1 strings compare as their bytes do (unsigned, a prefix first)
      const key = (id: number) => String.fromCharCode(...tok.piece(id));
      for (let i = 1; i < s.sorted.length; i++) {
        const [a, b] = [key(s.sorted[i - 1]!), key(s.sorted[i]!)];
        expect(a < b || (a === b && s.sorted[i - 1]! < s.sorted[i]!), `entries ${i - 1}, ${i}`).toBe(true);
      }
    });
    it(`${name}: tokenizerFromSection encodes as the original`, () => {
      const back = tokenizerFromSection(tokenizerSection(tok));
      fc.assert(
        fc.property(fc.string({ maxLength: 40 }), (s) => {
          expect(back.encode(s, { bos: true, eos: true })).toEqual(tok.encode(s, { bos: true, eos: true }));
        }),
        { numRuns: 100 },
      );
    });
  }

  it('a duplicated piece sorts by id, so a search finds the lowest id as encode does', () => {
    const tok = readTokenizer(file('tok512.bin'), 512);
    const s = tokenizerSection(tok);
    // give id 300 the piece of id 400: two equal pieces
    const pieces = Array.from({ length: s.vocabSize }, (_, i) => (i === 300 ? tok.piece(400) : tok.piece(i)));
    const dup = tokenizerSection(
      tokenizerFromSection({
        ...s,
        ...flat(pieces),
        sorted: tokenizerSectionSorted(pieces),
      }),
    );
    const at = dup.sorted.indexOf(300);
    expect(dup.sorted[at + 1]).toBe(400);
  });
});

/** offsets and bytes of `pieces` */
function flat(pieces: Uint8Array[]): Pick<TokenizerSection, 'offsets' | 'bytes'> {
  const offsets = new Uint32Array(pieces.length + 1);
  pieces.forEach((p, i) => {
    offsets[i + 1] = offsets[i]! + p.length;
  });
  const bytes = new Uint8Array(offsets[pieces.length]!);
  pieces.forEach((p, i) => {
    bytes.set(p, offsets[i]!);
  });
  return { offsets, bytes };
}

/** the expected order, computed independently: by latin-1 key, then id */
function tokenizerSectionSorted(pieces: Uint8Array[]): Uint32Array {
  const key = (i: number) => String.fromCharCode(...pieces[i]!);
  const ids = Array.from(pieces.keys()).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : a - b));
  return Uint32Array.from(ids);
}

describe('tokenizerFromSection refuses an inconsistent section', () => {
  const good = tokenizerSection(tokenizers['tok512.bin']);
  const swap = (a: Uint32Array, i: number, j: number) => {
    const c = a.slice();
    [c[i], c[j]] = [c[j]!, c[i]!];
    return c;
  };
  const cases: [string, Partial<TokenizerSection>][] = [
    ['vocab size 0', { vocabSize: 0 }],
    ['max_token_length 0', { maxTokenLength: 0 }],
    ['a piece longer than max_token_length', { maxTokenLength: 1 }],
    ['scores too short', { scores: good.scores.subarray(1) }],
    ['offsets not from 0', { offsets: good.offsets.map((o) => o + 1) }],
    ['offsets past the bytes', { bytes: good.bytes.subarray(1) }],
    ['two sorted entries swapped', { sorted: swap(good.sorted, 10, 11) }],
    ['a sorted entry repeated', { sorted: good.sorted.map((id, i) => (i === 5 ? good.sorted[6]! : id)) }],
  ];
  for (const [name, change] of cases) {
    it(`${name} → TOKENIZER_BAD_FILE`, () => {
      expect(codeOf(() => tokenizerFromSection({ ...good, ...change }))).toBe('TOKENIZER_BAD_FILE');
    });
  }
  it('accepts the section as built', () => {
    expect(tokenizerFromSection(good).vocabSize).toBe(512);
  });
});
