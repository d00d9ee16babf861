import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { BOS, PieceDecoder, printableBytes, readTokenizer } from './tokenizer.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const file = (name: string) => new Uint8Array(readFileSync(repo(`models/${name}`)));
const tok512 = readTokenizer(file('tok512.bin'), 512);
const tok32k = readTokenizer(file('tokenizer.bin'), 32000);
const byName = { 'tok512.bin': tok512, 'tokenizer.bin': tok32k } as const;

interface EncodeCase {
  tokenizer: keyof typeof byName;
  text: string;
  bos: boolean;
  eos: boolean;
  tokens: number[];
}
const goldens: EncodeCase[] = [
  ...JSON.parse(readFileSync(repo('golden/tok512-encode.json'), 'utf8')),
  ...JSON.parse(readFileSync(repo('golden/tokenizer32000-encode.json'), 'utf8')),
];

describe('encode matches llama2.c run.c (goldens)', () => {
  for (const g of goldens) {
    it(`${g.tokenizer}: ${JSON.stringify(g.text)} bos=${g.bos} eos=${g.eos}`, () => {
      expect(byName[g.tokenizer].encode(g.text, { bos: g.bos, eos: g.eos })).toEqual(g.tokens);
    });
  }
  it('has goldens for both tokenizers', () => {
    expect(new Set(goldens.map((g) => g.tokenizer))).toEqual(new Set(['tok512.bin', 'tokenizer.bin']));
  });
});

describe('encode details', () => {
  it('empty text: no dummy prefix, just BOS/EOS', () => {
    expect(tok512.encode('', { bos: true, eos: true })).toEqual([1, 2]);
    expect(tok512.encode('', { bos: false, eos: false })).toEqual([]);
  });
  it('unknown code points fall back to byte tokens (byte + 3)', () => {
    // U+1F600 is F0 9F 98 80; the Llama 2 vocabulary has no such piece, so it becomes four byte tokens
    // ("<0xF0>"… which no merge joins), after the dummy prefix
    const t = tok32k.encode('\u{1F600}', { bos: false, eos: false });
    expect(new TextDecoder().decode(tok32k.piece(t[0]!))).toBe(' ');
    expect(t.slice(1)).toEqual([0xf0 + 3, 0x9f + 3, 0x98 + 3, 0x80 + 3]);
    // run.c prints byte tokens one byte at a time and safe_printf drops bytes >= 0x80
    expect(tok32k.decode(t.slice(1))).toBe('');
  });
  it('stops at a NUL like a C string', () => {
    expect(tok512.encode('ab\u0000cd', { bos: false, eos: false })).toEqual(
      tok512.encode('ab', { bos: false, eos: false }),
    );
  });
  it('encodeBytes: a stray continuation byte or a truncated sequence is a code point of its own', () => {
    // 0x80 alone, then "é" cut after its lead byte, then "a": each unknown piece falls back to its bytes
    const t = tok32k.encodeBytes(Uint8Array.of(0x80, 0xc3, 0x61), { bos: false, eos: false });
    expect(t.slice(1, 3)).toEqual([0x80 + 3, 0xc3 + 3]);
    expect(t.length).toBe(4);
    expect(new TextDecoder().decode(tok32k.piece(t[3]!))).toBe('a');
    expect(tok32k.encodeBytes(new TextEncoder().encode('héllo'), { bos: true, eos: true })).toEqual(
      tok32k.encode('héllo', { bos: true, eos: true }),
    );
  });
  it('round-trips a long prompt with the 32000 vocabulary', () => {
    const text = 'Once upon a time, there was a little girl named Lily. '.repeat(20);
    const tokens = tok32k.encode(text, { bos: true, eos: false });
    expect(tokens.length).toBeGreaterThan(200);
    expect(tok32k.decode(tokens.slice(1))).toBe(text);
  });
});

describe('decode', () => {
  it('strips the leading space after BOS and maps <0xNN> pieces to bytes', () => {
    const once = tok32k.encode('Once', { bos: false, eos: false }).at(-1)!;
    expect(new TextDecoder().decode(tok32k.piece(once))).toBe(' Once');
    expect(new TextDecoder().decode(tok32k.decodePiece(BOS, once))).toBe('Once');
    expect(new TextDecoder().decode(tok32k.decodePiece(5, once))).toBe(' Once');
    expect(tok32k.decodePiece(0, 0x41 + 3)).toEqual(Uint8Array.of(0x41)); // <0x41>
  });
  it('drops unprintable single bytes like safe_printf', () => {
    expect(printableBytes(Uint8Array.of(0x07))).toEqual(new Uint8Array(0));
    expect(printableBytes(Uint8Array.of(0x0a))).toEqual(Uint8Array.of(0x0a));
    expect(printableBytes(Uint8Array.of(0xc3))).toEqual(new Uint8Array(0));
    expect(printableBytes(Uint8Array.of(0xc3, 0xa9))).toEqual(Uint8Array.of(0xc3, 0xa9));
  });
  it('PieceDecoder emits a character split across pieces once complete', () => {
    const d = new PieceDecoder();
    expect(d.push(Uint8Array.of(0x61, 0xc3))).toBe('a');
    expect(d.push(Uint8Array.of(0xa9, 0x62))).toBe('éb');
    expect(d.flush()).toBe('');
  });
  it('rejects out-of-range ids', () => {
    expect(codeOf(() => tok512.decodePiece(1, 512))).toBe('TOKEN_OUT_OF_RANGE');
    expect(codeOf(() => tok512.piece(-1))).toBe('TOKEN_OUT_OF_RANGE');
  });
});

describe('decode(encode(s)) == s', () => {
  // What run.c prints for encode(s) after BOS is s itself, when s is printable text whose characters the
  // vocabulary has as pieces (byte-fallback characters are printed byte by byte and dropped by
  // safe_printf) and s does not start with a space (the dummy prefix " " merges with the first piece and
  // decode strips exactly one space after BOS).
  const printableAscii = fc
    .string({
      unit: fc.constantFrom(
        ...' abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()\n',
      ),
      minLength: 1,
      maxLength: 60,
    })
    .filter((s) => !s.startsWith(' '));
  for (const [name, tok] of Object.entries(byName)) {
    it(`${name}: printable ASCII`, () => {
      fc.assert(
        fc.property(printableAscii, (s) => {
          const tokens = tok.encode(s, { bos: true, eos: false });
          expect(tokens[0]).toBe(BOS);
          expect(tok.decode(tokens.slice(1))).toBe(s);
        }),
        { numRuns: 300 },
      );
    });
  }
  it('tokenizer.bin: non-ASCII text the vocabulary covers (é, ü, ñ, 日本, —)', () => {
    fc.assert(
      fc.property(
        fc
          .string({
            unit: fc.constantFrom('a', 'b', 'é', 'ü', 'ñ', '日', '本', '—', ' ', 'x'),
            minLength: 1,
            maxLength: 30,
          })
          .filter((s) => !s.startsWith(' ')),
        (s) => {
          expect(tok32k.decode(tok32k.encode(s, { bos: true, eos: false }).slice(1))).toBe(s);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('bad tokenizer files', () => {
  const good = file('tok512.bin');
  const set32 = (src: Uint8Array, at: number, v: number) => {
    const c = src.slice();
    new DataView(c.buffer).setInt32(at, v, true);
    return c;
  };
  const cases: [string, () => unknown, string][] = [
    ['tok512.bin for a 32000-token model', () => readTokenizer(good, 32000), 'TOKENIZER_VOCAB_MISMATCH'],
    [
      'tokenizer.bin for a 512-token model',
      () => readTokenizer(file('tokenizer.bin'), 512),
      'TOKENIZER_VOCAB_MISMATCH',
    ],
    ['empty file', () => readTokenizer(new Uint8Array(0), 512), 'TOKENIZER_TRUNCATED'],
    ['cut inside a token', () => readTokenizer(good.subarray(0, 101), 512), 'TOKENIZER_TRUNCATED'],
    ['zero max_token_length', () => readTokenizer(set32(good, 0, 0), 512), 'TOKENIZER_BAD_FILE'],
    ['negative token length', () => readTokenizer(set32(good, 8, -5), 512), 'TOKENIZER_BAD_FILE'],
    ['token longer than max_token_length', () => readTokenizer(set32(good, 0, 1), 512), 'TOKENIZER_BAD_FILE'],
    ['vocabSize 0', () => readTokenizer(good, 0), 'INVALID_ARGUMENT'],
  ];
  for (const [name, f, code] of cases) it(`${name} → ${code}`, () => expect(codeOf(f)).toBe(code));

  it('mismatch messages give both counts', () => {
    expect(() => readTokenizer(good, 32000)).toThrow(/has 512 tokens but the model's vocab_size is 32000/);
    expect(() => readTokenizer(file('tokenizer.bin'), 512)).toThrow(
      /has 32000 tokens but the model's vocab_size is 512/,
    );
  });
  it('infers the vocabulary size when none is given', () => {
    expect(readTokenizer(good).vocabSize).toBe(512);
  });
});
