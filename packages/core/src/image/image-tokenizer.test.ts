/** The tokenizer section of a weight image (docs/image-format.md §4b): round trip, damage, consistency. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTokenizer, Tokenizer } from '../tokenizer/tokenizer.js';
import { caught, FULL, reseal, setU32, u32 } from './image.test-helper.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import { TINY, testModel } from './test-model.js';

const utf8 = (s: string) => new TextEncoder().encode(s);
/** An 11-token vocabulary for TINY (vocab_size 11): the specials, " ", letters and merges. */
const tiny = new Tokenizer(
  ['<unk>', '<s>', '</s>', ' ', 'a', 'b', ' a', 'ab', ' ab', 'é', 'ba'].map((p, i) => ({
    score: i === 7 ? 2 : -i,
    bytes: utf8(p),
  })),
  5,
);
const qm = testModel(TINY, 5);
const FIRST = { layers: [0, 2] as [number, number], embedding: true, classifier: false };

describe('buildImage with a tokenizer', () => {
  const img = buildImage(qm, FIRST, { tokenizer: tiny });
  const r = readImage(img);

  it('sets flag bit 2 and the header fields, and appends the four tensors at the end of the table', () => {
    expect(u32(img, 0x58) & 4).toBe(4);
    expect([u32(img, 0x84), u32(img, 0x88)]).toEqual([5, 26]); // 26 = the pieces' bytes
    expect(r.header.tokenizer).toEqual({ maxTokenLength: 5, bytes: 26 });
    expect(r.tensors.slice(-4).map((t) => [t.name, t.dtype, t.shape])).toEqual([
      ['tokenizer.scores', 'f32', [11]],
      ['tokenizer.offsets', 'u32', [12]],
      ['tokenizer.sorted', 'u32', [11]],
      ['tokenizer.bytes', 'u8', [26]],
    ]);
    expect(u32(img, 256 + (r.tensors.length - 1) * 64 + 0x20) & 0xffff).toBe(5); // u8
    expect(u32(img, 256 + (r.tensors.length - 2) * 64 + 0x20) & 0xffff).toBe(6); // u32
  });

  it('reads back a tokenizer that encodes and decodes as the original', () => {
    const back = r.tokenizer as Tokenizer;
    expect(back.vocabSize).toBe(11);
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', ' ', 'é'), maxLength: 20 }), (s) => {
        expect(back.encode(s, { bos: true, eos: false })).toEqual(tiny.encode(s, { bos: true, eos: false }));
      }),
    );
    for (let id = 0; id < 11; id++) expect(back.decodePiece(1, id)).toEqual(tiny.decodePiece(1, id));
  });

  it('leaves the weights as they are: the image without the section is the same up to the table', () => {
    const plain = readImage(buildImage(qm, FIRST));
    expect(plain.header.tokenizer).toBeUndefined();
    expect(plain.tokenizer).toBeUndefined();
    expect(r.tensors.slice(0, -4).map((t) => t.name)).toEqual(plain.tensors.map((t) => t.name));
    expect(r.tensors.slice(0, -4).map((t) => t.crc32c)).toEqual(plain.tensors.map((t) => t.crc32c));
  });

  it('stories260K with tok512.bin: the image tokenizer encodes the goldens as the file does', () => {
    const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
    const tok = readTokenizer(new Uint8Array(readFileSync(repo('models/tok512.bin'))), 512);
    const qm512 = testModel({ ...TINY, vocabSize: 512 }, 2);
    const back = readImage(buildImage(qm512, FIRST, { tokenizer: tok })).tokenizer as Tokenizer;
    for (const g of JSON.parse(readFileSync(repo('golden/tok512-encode.json'), 'utf8'))) {
      expect(back.encode(g.text, g)).toEqual(g.tokens);
    }
  });

  it('refuses a tokenizer its reader would refuse (a piece longer than max_token_length)', () => {
    const long = new Tokenizer(
      [...Array(11).keys()].map((i) => ({ score: 0, bytes: utf8(`t${i}`) })),
      1,
    );
    expect(caught(() => buildImage(qm, FIRST, { tokenizer: long })).code).toBe('TOKENIZER_BAD_FILE');
  });

  it('refuses a tokenizer of another vocabulary size', () => {
    const e = caught(() => buildImage(testModel({ ...TINY, vocabSize: 12 }, 1), FIRST, { tokenizer: tiny }));
    expect(e.code).toBe('TOKENIZER_VOCAB_MISMATCH');
  });
});

describe('damage to the tokenizer section is caught', () => {
  const img = buildImage(qm, FULL, { tokenizer: tiny });
  const { tensors } = readImage(img);
  const section = tensors.filter((t) => t.name.startsWith('tokenizer.'));

  it('every bit of every tokenizer tensor: IMAGE_TENSOR_CRC naming the tensor', () => {
    for (const t of section) {
      for (let i = t.offset; i < t.offset + t.byteLength; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const bad = img.slice();
          bad[i] = (bad[i] as number) ^ (1 << bit);
          const e = caught(() => readImage(bad));
          expect([e.code, e.details?.tensor]).toEqual(['IMAGE_TENSOR_CRC', t.name]);
        }
      }
    }
  });

  it('header fields out of their rule: IMAGE_BAD_HEADER; in their rule but changed: the header CRC', () => {
    const withField = (at: number, v: number) => {
      const bad = img.slice();
      setU32(bad, at, v);
      return caught(() => readImage(bad)).code;
    };
    expect(withField(0x84, 0)).toBe('IMAGE_BAD_HEADER');
    expect(withField(0x84, 65537)).toBe('IMAGE_BAD_HEADER');
    expect(withField(0x88, 0)).toBe('IMAGE_BAD_HEADER');
    expect(withField(0x84, 6)).toBe('IMAGE_HEADER_CRC');
    expect(withField(0x88, 27)).toBe('IMAGE_HEADER_CRC');
    // flag bit 2 cleared: the fields must then be 0
    expect(withField(0x58, u32(img, 0x58) & ~4)).toBe('IMAGE_BAD_HEADER');
    // a version-2 image has no tokenizer flag
    expect(withField(0x04, 2)).toBe('IMAGE_BAD_HEADER');
  });

  it('a consistent-looking but wrong section (CRCs resealed): IMAGE_BAD_TABLE, and verifyImage says so', () => {
    const sorted = tensors.find((t) => t.name === 'tokenizer.sorted')!;
    const bad = img.slice();
    const a = u32(bad, sorted.offset);
    setU32(bad, sorted.offset, u32(bad, sorted.offset + 4));
    setU32(bad, sorted.offset + 4, a);
    // the tensor's CRC, then the header CRC over the table that holds it
    const entry = 256 + tensors.indexOf(sorted) * 64;
    setU32(bad, entry + 0x38, crc32c(bad.subarray(sorted.offset, sorted.offset + sorted.byteLength)));
    reseal(bad);
    const e = caught(() => readImage(bad));
    expect(e.code).toBe('IMAGE_BAD_TABLE');
    expect(e.message).toMatch(/sorted index entry 0/);
    const report = verifyImage(bad);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => c.check === 'tokenizer')).toMatchObject({
      ok: false,
      code: 'IMAGE_BAD_TABLE',
    });
    expect(verifyImage(img).checks.find((c) => c.check === 'tokenizer')?.ok).toBe(true);
  });
});
