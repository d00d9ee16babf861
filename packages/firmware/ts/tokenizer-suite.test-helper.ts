/**
 * The C tokenizer against the TS tokenizer, as one suite run on the host build (tokenizer.test.ts) and on
 * rv32 under QEMU (tokenizer-rv32.test.ts) with fewer property runs: llama2.c's goldens, then fast-check
 * batches (one harness run a batch) over both bundled vocabularies and over random small vocabularies.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { buildImage, quantize, readTokenizer, synthesize, Tokenizer } from '@tinypipe/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Case, printed, type Runner, runC, runTs, STATUS, sectionOf } from './tokenizer.test-helper.js';

const repo = (p: string) => new URL(`../../../${p}`, import.meta.url);
const model = (name: string) => new Uint8Array(readFileSync(repo(`models/${name}`)));
export const tokenizers = {
  'tok512.bin': readTokenizer(model('tok512.bin'), 512),
  'tokenizer.bin': readTokenizer(model('tokenizer.bin'), 32000),
};
type Name = keyof typeof tokenizers;

const FC_SEED = process.env.FC_SEED;
const params = (numRuns: number) => ({ numRuns, ...(FC_SEED ? { seed: Number(FC_SEED) } : {}) });
const utf8 = (s: string) => new TextEncoder().encode(s);

/** C and TS answers for `cases` equal; on a difference, the first differing case is what the failure shows. */
export function expectSame(
  run: Runner,
  tok: Tokenizer,
  cases: readonly Case[],
  from: { mode: 'section' | 'image'; bytes: Uint8Array } = { mode: 'section', bytes: sectionOf(tok) },
): void {
  const c = runC(run, from.mode, from.bytes, cases);
  const ts = runTs(tok, cases);
  const at = c.findIndex((r, i) => !isDeepStrictEqual(r, ts[i]));
  if (at >= 0) expect({ case: cases[at], result: c[at] }).toEqual({ case: cases[at], result: ts[at] });
  expect(c.length).toBe(cases.length);
}

interface Golden {
  tokenizer: Name;
  text?: string;
  prompt?: string;
  bos?: boolean;
  eos?: boolean;
  tokens: number[];
  prompt_tokens?: number[];
}
/** A small synthetic model's first-board image (embedding, one layer) holding `tok` in its tokenizer section. */
export function imageWith(tok: Tokenizer): Uint8Array {
  const config = {
    dim: 32,
    hiddenDim: 64,
    nLayers: 1,
    nHeads: 2,
    nKvHeads: 2,
    seqLen: 8,
    sharedClassifier: true,
  };
  const qm = quantize(synthesize({ ...config, vocabSize: tok.vocabSize }, 3), { weights: 'q8' });
  return buildImage(qm, { layers: [0, 1], embedding: true, classifier: false }, { tokenizer: tok });
}

/** Every golden file: the encode cases and the generations (prompt → prompt_tokens, tokens → text). */
function goldens(): { name: string; g: Golden & { text: string } }[] {
  const dir = repo('golden/');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .flatMap((f) => {
      const j = JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as Golden | Golden[];
      return (Array.isArray(j) ? j : [j]).map((g) => ({ name: f, g: g as Golden & { text: string } }));
    });
}

// biome-ignore format: the alphabets read better packed
const WORDS = ['Once', ' upon', ' a', ' time', ' ', '  ', 'Lily', ' the', '.', ',', '\n', 'é', '日本', "don't", '—', '\t', 'ball', 'ing', 'ed', '\u{1F600}', 'ß', '<0x41>', '0'];
// biome-ignore format: bytes that make and break UTF-8 sequences
const BYTES = [0x00, 0x20, 0x41, 0x61, 0x62, 0x80, 0xa9, 0xbf, 0xc3, 0xe6, 0x97, 0xa5, 0xf0, 0x9f, 0x98, 0xff, 0x0a];

/** Encode cases: unicode strings, raw bytes (invalid UTF-8, NUL), word soup, long text. */
export function textArb(long: boolean): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.string({ unit: 'binary', maxLength: 30 }).map(utf8),
    fc.string({ unit: 'grapheme', maxLength: 20 }).map(utf8),
    fc.uint8Array({ maxLength: 40 }),
    fc.array(fc.constantFrom(...BYTES), { maxLength: 40 }).map((b) => Uint8Array.from(b)),
    fc.array(fc.constantFrom(...WORDS), { maxLength: 30 }).map((w) => utf8(w.join(''))),
    // repeats: the same pair at several places, where the first-pair-wins tie rule decides
    fc
      .array(fc.constantFrom('a', 'b', ' ', 'ab', 'é', 'la', 'the '), { maxLength: 24 })
      .map((w) => utf8(w.join(''))),
    ...(long
      ? [fc.array(fc.constantFrom(...WORDS), { minLength: 150, maxLength: 400 }).map((w) => utf8(w.join('')))]
      : []),
  );
}
const encodeArb = (long: boolean): fc.Arbitrary<Case> =>
  fc.record({ kind: fc.constant('E' as const), text: textArb(long), bos: fc.boolean(), eos: fc.boolean() });
const decodeArb = (vocab: number): fc.Arbitrary<Case> => {
  const token = fc.oneof(
    { weight: 30, arbitrary: fc.integer({ min: 0, max: vocab - 1 }) },
    { weight: 1, arbitrary: fc.constantFrom(-1, vocab, 0x7fffffff) },
  );
  return fc.record({
    kind: fc.constant('D' as const),
    prev: fc.oneof(fc.constant(1), fc.integer({ min: -1, max: vocab })),
    tokens: fc.array(token, { maxLength: 30 }),
  });
};
const batch = (vocab: number, long: boolean, size: number) =>
  fc.array(fc.oneof(encodeArb(long), decodeArb(vocab)), { minLength: 1, maxLength: size });
/** Texts over the small vocabularies' letters, so their pieces meet and pairs repeat (ties). */
const smallText = fc
  .array(fc.constantFrom('a', 'a', 'b', ' ', 'é', [0x80], [0xc3], '<0x4'), { maxLength: 16 })
  .map((w) => Uint8Array.from(w.flatMap((p) => (typeof p === 'string' ? [...utf8(p)] : p))));
const smallBatch = (vocab: number, size: number) =>
  fc.array(
    fc.oneof(
      fc.record({ kind: fc.constant('E' as const), text: smallText, bos: fc.boolean(), eos: fc.boolean() }),
      encodeArb(false),
      decodeArb(vocab),
    ),
    { minLength: 1, maxLength: size },
  );

/** A small random vocabulary: ties and NaN scores, duplicate and empty pieces, "<0x" lookalikes, maybe no bytes. */
const vocabArb: fc.Arbitrary<Tokenizer> = fc
  .record({
    bytes: fc.boolean(),
    pieces: fc.array(
      fc.record({
        score: fc.constantFrom(-1, 0, 0, 1, 2, Number.NaN, -1e10, Number.POSITIVE_INFINITY),
        bytes: fc.oneof(
          fc
            .constantFrom(
              ' ',
              'a',
              'b',
              ' a',
              'ab',
              'ba',
              'aa',
              ' ab',
              'é',
              ' é',
              '',
              '<0x4',
              '<0x41>',
              '<0xZ',
              '\0a',
            )
            .map(utf8),
          fc.array(fc.constantFrom(...BYTES), { minLength: 1, maxLength: 3 }).map((b) => Uint8Array.from(b)),
        ),
      }),
      { minLength: 1, maxLength: 40 },
    ),
  })
  .map(({ bytes, pieces }) => {
    const specials = ['<unk>', '<s>', '</s>'].map((s) => ({ score: 0, bytes: utf8(s) }));
    const fallback = bytes
      ? Array.from({ length: 256 }, (_, b) => ({
          score: 0,
          bytes: utf8(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`),
        }))
      : [];
    const entries = [...specials, ...fallback, ...pieces];
    return new Tokenizer(entries, Math.max(1, ...entries.map((e) => e.bytes.length)));
  });

/** The whole suite over `runner()`, `runs` fast-check batches per property. */
export function tokenizerSuite(runner: () => Runner, runs: number, batchSize: number): void {
  let run: Runner;
  beforeAll(() => {
    run = runner();
  });

  describe("llama2.c's goldens: C = TS = run.c", () => {
    it('every golden: encode(text or prompt) and decode(tokens) as printed', () => {
      const all = goldens();
      expect(all.length).toBeGreaterThan(4);
      for (const name of Object.keys(tokenizers) as Name[]) {
        const mine = all.filter(({ g }) => g.tokenizer === name);
        expect(mine.length, name).toBeGreaterThan(0);
        const cases = mine.flatMap(({ g }): Case[] =>
          g.prompt_tokens
            ? [
                { kind: 'E', text: utf8(g.prompt ?? ''), bos: true, eos: false },
                { kind: 'D', prev: 1, tokens: g.tokens },
              ]
            : [{ kind: 'E', text: utf8(g.text), bos: g.bos ?? false, eos: g.eos ?? false }],
        );
        const c = runC(run, 'section', sectionOf(tokenizers[name]), cases);
        let k = 0;
        for (const { name: file, g } of mine) {
          if (g.prompt_tokens) {
            expect(c[k++], `${file} prompt`).toEqual({ kind: 'E', status: 0, tokens: g.prompt_tokens });
            expect(printed(c[k++]!), `${file} text`).toBe(g.text);
          } else {
            expect(c[k++], `${file} ${JSON.stringify(g.text)}`).toEqual({
              kind: 'E',
              status: 0,
              tokens: g.tokens,
            });
          }
        }
        expectSame(run, tokenizers[name], cases);
      }
    });
  });

  describe('the tokenizer of a weight image (tp_image_open verifies it, tp_image_tokenizer wraps it): C = TS', () => {
    for (const name of Object.keys(tokenizers) as Name[]) {
      it(`${name}: every golden text and a batch of random cases`, () => {
        const tok = tokenizers[name];
        const texts = goldens()
          .filter(({ g }) => g.tokenizer === name)
          .map(({ g }): Case => ({ kind: 'E', text: utf8(g.prompt ?? g.text), bos: true, eos: false }));
        const random = fc.sample(batch(tok.vocabSize, false, 80), {
          numRuns: 1,
          seed: FC_SEED ? Number(FC_SEED) : 21,
        });
        expectSame(run, tok, [...texts, ...random[0]!], { mode: 'image', bytes: imageWith(tok) });
      });
    }
  });

  for (const name of Object.keys(tokenizers) as Name[]) {
    const tok = tokenizers[name];
    describe(`${name}: C = TS`, () => {
      it('decodes every id after BOS and after another token', () => {
        const ids = Array.from({ length: tok.vocabSize }, (_, i) => i);
        expectSame(run, tok, [
          ...ids.map((t): Case => ({ kind: 'D', prev: 1, tokens: [t] })),
          { kind: 'D', prev: 0, tokens: ids },
        ]);
      });
      it('random unicode, raw bytes (invalid UTF-8, NUL), word soup, long text; random token runs', () => {
        fc.assert(
          fc.property(batch(tok.vocabSize, true, batchSize), (cases) => expectSame(run, tok, cases)),
          params(runs),
        );
      });
    });
  }

  describe('hand-made vocabularies (expected ids worked out by hand)', () => {
    const vocab = (pieces: [string, number][]) =>
      new Tokenizer(
        [['<unk>', 0], ['<s>', 0], ['</s>', 0], ...pieces].map(([p, score]) => ({
          score: score as number,
          bytes: utf8(p as string),
        })),
        5,
      );
    const enc = (text: string): Case => ({ kind: 'E', text: utf8(text), bos: false, eos: false });
    it('ties: the first pair of equal score merges first', () => {
      // 3 " ", 4 a, 5 aa: "aaa" → " " a a a → a+a twice at equal score, the first → " " aa a
      const same = vocab([
        [' ', 0],
        ['a', 0],
        ['aa', 0],
      ]);
      // 3 " ", 4 a, 5 b, 6 ab, 7 ba (equal scores): "aba" → " " ab a, not " " a ba
      const distinct = vocab([
        [' ', 0],
        ['a', 0],
        ['b', 0],
        ['ab', 1],
        ['ba', 1],
      ]);
      // a NaN score never wins; -1e10 neither (the best starts there and needs more)
      const nan = vocab([
        [' ', 0],
        ['a', 0],
        ['b', 0],
        ['ab', Number.NaN],
        ['ba', -1e10],
      ]);
      for (const [tok, text, ids] of [
        [same, 'aaa', [3, 5, 4]],
        [distinct, 'aba', [3, 6, 4]],
        [nan, 'aba', [3, 4, 5, 4]],
      ] as const) {
        expect(runC(run, 'section', sectionOf(tok), [enc(text)])).toEqual([
          { kind: 'E', status: 0, tokens: ids },
        ]);
        expectSame(run, tok, [enc(text)]);
      }
    });
    it('out too small for the tokens before merging: NO_MEMORY and no ids; exactly enough: the ids', () => {
      const distinct = vocab([
        [' ', 0],
        ['a', 0],
        ['b', 0],
        ['ab', 1],
        ['ba', 1],
      ]);
      // "aba" with BOS and EOS: BOS " " a b a (5) before merging, BOS " " ab a EOS (5) after
      const aba = (cap: number): Case => ({ kind: 'E', text: utf8('aba'), bos: true, eos: true, cap });
      expect(runC(run, 'section', sectionOf(distinct), [aba(4), aba(5), aba(0)])).toEqual([
        { kind: 'E', status: STATUS.NO_MEMORY, tokens: [] },
        { kind: 'E', status: 0, tokens: [1, 3, 6, 4, 2] },
        { kind: 'E', status: STATUS.NO_MEMORY, tokens: [] },
      ]);
    });
  });

  describe('random small vocabularies: C = TS', () => {
    it('ties, NaN scores, duplicate and empty pieces, missing byte tokens: same ids, pieces and errors', () => {
      fc.assert(
        fc.property(
          vocabArb.chain((tok) => fc.tuple(fc.constant(tok), smallBatch(tok.vocabSize, batchSize))),
          ([tok, cases]) => expectSame(run, tok, cases),
        ),
        params(runs * 2),
      );
    });
  });
}
