/** Board 0's story defaults in its weight image (docs/image-format.md §4c): round trip, damage, refusals. */
import { crc32c } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Tokenizer } from '../tokenizer/tokenizer.js';
import { caught, FULL, reseal, setU32, u32 } from './image.test-helper.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import type { StoryDefaultsInput } from './story-section.js';
import { TINY, testModel } from './test-model.js';

const qm = testModel(TINY, 7); // seq_len 6
const FIRST = { layers: [0, 2] as [number, number], embedding: true, classifier: false };
const STORY: StoryDefaultsInput = {
  prompt: 'Il était une fois',
  steps: 5,
  temperature: 0.8,
  topp: 0.95,
  seed: 0xfedcba9876543210n,
  parallel: 3,
};
const utf8 = (s: string) => new TextEncoder().encode(s);

describe('buildImage with story defaults', () => {
  const img = buildImage(qm, FIRST, { story: STORY });
  const r = readImage(img);
  const last = r.tensors[r.tensors.length - 1]!;

  it('sets flag bit 3 and story_bytes, and appends story.defaults (u8) as the last tensor', () => {
    const promptBytes = utf8(STORY.prompt).length;
    expect(u32(img, 0x58) & 8).toBe(8);
    expect(u32(img, 0x8c)).toBe(24 + promptBytes);
    expect(r.header.story).toEqual({ bytes: 24 + promptBytes });
    expect([last.name, last.dtype, last.shape]).toEqual(['story.defaults', 'u8', [24 + promptBytes]]);
    // the record, field by field (little-endian, docs/image-format.md §4c)
    const dv = new DataView(img.buffer, img.byteOffset + last.offset, last.byteLength);
    expect(dv.getFloat32(0, true)).toBe(Math.fround(0.8));
    expect(dv.getFloat32(4, true)).toBe(Math.fround(0.95));
    expect(dv.getBigUint64(8, true)).toBe(0xfedcba9876543210n);
    expect([dv.getUint32(16, true), dv.getUint16(20, true), dv.getUint16(22, true)]).toEqual([
      5,
      3,
      promptBytes,
    ]);
    expect(new TextDecoder().decode(img.subarray(last.offset + 24, last.offset + last.byteLength))).toBe(
      STORY.prompt,
    );
  });

  it('reads back the settings (temperature and top-p as binary32), and verifyImage names them', () => {
    expect(r.story).toEqual({ ...STORY, temperature: Math.fround(0.8), topp: Math.fround(0.95) });
    const line = verifyImage(img).checks.find((c) => c.check === 'story');
    expect(line?.ok).toBe(true);
    expect(line?.message).toContain('"Il était une fois", 5 steps, temperature 0.8, topp 0.95,'); // binary32, shortest
    expect(line?.message).toContain(`seed ${0xfedcba9876543210n}`);
  });

  it('round-trips any valid settings, with the tokenizer section before it', () => {
    const tok = new Tokenizer(
      ['<unk>', '<s>', '</s>', ' ', 'a', 'b', ' a', 'ab', ' ab', 'é', 'ba'].map((p, i) => ({
        score: -i,
        bytes: utf8(p),
      })),
      5,
    );
    const story = fc.record({
      prompt: fc.string({ unit: 'grapheme', maxLength: 60 }).filter((s) => !s.includes('\0')),
      steps: fc.integer({ min: 1, max: 6 }),
      temperature: fc.float({ min: 0, max: 1e6, noNaN: true, noDefaultInfinity: true }),
      topp: fc.float({ min: 0, max: 1, noNaN: true }),
      seed: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      parallel: fc.integer({ min: 1, max: 16 }),
    });
    fc.assert(
      fc.property(story, (s) => {
        fc.pre(utf8(s.prompt).length <= 255);
        const back = readImage(buildImage(qm, FULL, { tokenizer: tok, story: s }));
        expect(back.story).toEqual(s); // fc.float values are binary32 already
        expect(back.tokenizer?.vocabSize).toBe(11);
        expect(back.tensors.slice(-5).map((t) => t.name)).toEqual([
          'tokenizer.scores',
          'tokenizer.offsets',
          'tokenizer.sorted',
          'tokenizer.bytes',
          'story.defaults',
        ]);
      }),
      { numRuns: 60 },
    );
  });

  it('leaves the rest as it was: without the option no flag, no field, no tensor', () => {
    const plain = buildImage(qm, FIRST);
    expect([u32(plain, 0x58) & 8, u32(plain, 0x8c)]).toEqual([0, 0]);
    expect(readImage(plain).story).toBeUndefined();
    expect(r.tensors.slice(0, -1).map((t) => t.crc32c)).toEqual(
      readImage(plain).tensors.map((t) => t.crc32c),
    );
  });

  it('refuses settings the readers would refuse (INVALID_ARGUMENT), and takes the edges', () => {
    const bad: Partial<StoryDefaultsInput>[] = [
      { temperature: -0.5 },
      { temperature: Number.NaN },
      { temperature: Number.POSITIVE_INFINITY },
      { temperature: 1e39 }, // finite as a double, infinite as binary32
      { topp: 1.5 },
      { topp: -0.1 },
      { steps: 0 },
      { steps: 7 }, // seq_len is 6
      { steps: 2.5 },
      { parallel: 0 },
      { parallel: 17 },
      { seed: -1 },
      { seed: 2 ** 64 },
      { seed: 1n << 64n },
      { prompt: 'x'.repeat(256) },
      { prompt: 'a\0b' },
      { prompt: 'é'.repeat(128) }, // 256 bytes
    ];
    for (const b of bad) {
      expect([b, caught(() => buildImage(qm, FIRST, { story: { ...STORY, ...b } })).code]).toEqual([
        b,
        'INVALID_ARGUMENT',
      ]);
    }
    const edges: Partial<StoryDefaultsInput>[] = [
      { temperature: 0, topp: 0 },
      { topp: 1, steps: 6, parallel: 16, seed: 0 },
      { prompt: '' },
      { prompt: 'x'.repeat(255) },
      { seed: Number.MAX_SAFE_INTEGER },
    ];
    for (const e of edges) {
      const s = readImage(buildImage(qm, FIRST, { story: { ...STORY, ...e } })).story!;
      expect(s.prompt).toBe(e.prompt ?? STORY.prompt);
      expect(s.seed).toBe(BigInt(e.seed ?? STORY.seed));
    }
  });
});

describe('damage to the story defaults is caught', () => {
  const img = buildImage(qm, FULL, { story: STORY });
  const { tensors } = readImage(img);
  const t = tensors[tensors.length - 1]!;
  const entry = 256 + (tensors.length - 1) * 64;

  it('every bit of story.defaults: IMAGE_TENSOR_CRC naming it', () => {
    for (let i = t.offset; i < t.offset + t.byteLength; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = img.slice();
        bad[i] = (bad[i] as number) ^ (1 << bit);
        const e = caught(() => readImage(bad));
        expect([e.code, e.details?.tensor]).toEqual(['IMAGE_TENSOR_CRC', 'story.defaults']);
      }
    }
  });

  it('story_bytes and the flag out of their rules: IMAGE_BAD_HEADER; in them but changed: the header CRC', () => {
    const withField = (at: number, v: number) => {
      const bad = img.slice();
      setU32(bad, at, v);
      return caught(() => readImage(bad)).code;
    };
    expect(withField(0x8c, 23)).toBe('IMAGE_BAD_HEADER');
    expect(withField(0x8c, 24 + 256)).toBe('IMAGE_BAD_HEADER');
    expect(withField(0x8c, 24)).toBe('IMAGE_HEADER_CRC');
    expect(withField(0x58, u32(img, 0x58) & ~8)).toBe('IMAGE_BAD_HEADER'); // story_bytes set without the flag
    expect(withField(0x58, u32(img, 0x58) | 16)).toBe('IMAGE_BAD_HEADER'); // bit 4: unknown
    expect(withField(0x90, 1)).toBe('IMAGE_BAD_HEADER'); // reserved from 0x90
    expect(withField(0x04, 2)).toBe('IMAGE_BAD_HEADER'); // version 2: no story flag
  });

  const put = (dv: DataView, at: number, ...bytes: number[]) => {
    bytes.forEach((b, i) => {
      dv.setUint8(at + i, b);
    });
  };
  /** The image with the record's bytes changed by `edit`, its CRC and the header CRC recomputed. */
  const resealed = (edit: (dv: DataView) => void) => {
    const bad = img.slice();
    edit(new DataView(bad.buffer, t.offset, t.byteLength));
    setU32(bad, entry + 0x38, crc32c(bad.subarray(t.offset, t.offset + t.byteLength)));
    return reseal(bad);
  };

  it('a record that breaks a rule under valid CRCs: IMAGE_BAD_TABLE, and verifyImage says so', () => {
    const edits: [string, (dv: DataView) => void][] = [
      ['temperature -1', (dv) => dv.setFloat32(0, -1, true)],
      ['temperature NaN', (dv) => dv.setUint32(0, 0x7fc00000, true)],
      ['temperature inf', (dv) => dv.setFloat32(0, Number.POSITIVE_INFINITY, true)],
      ['topp 1.01', (dv) => dv.setFloat32(4, 1.01, true)],
      ['topp NaN', (dv) => dv.setUint32(4, 0xffc00001, true)],
      ['steps 0', (dv) => dv.setUint32(16, 0, true)],
      ['steps 7 > seq_len', (dv) => dv.setUint32(16, 7, true)],
      ['parallel 0', (dv) => dv.setUint16(20, 0, true)],
      ['parallel 17', (dv) => dv.setUint16(20, 17, true)],
      ['prompt_bytes one less', (dv) => dv.setUint16(22, dv.getUint16(22, true) - 1, true)],
      ['a NUL in the prompt', (dv) => dv.setUint8(24, 0)],
      ['a lone continuation byte', (dv) => dv.setUint8(24, 0x80)],
      ['an overlong "/"', (dv) => put(dv, 24, 0xc0, 0xaf)],
      ['a surrogate', (dv) => put(dv, 24, 0xed, 0xa0, 0x80)],
      ['a cut sequence at the end', (dv) => dv.setUint8(dv.byteLength - 1, 0xe2)],
    ];
    for (const [what, edit] of edits) {
      const bad = resealed(edit);
      const e = caught(() => readImage(bad));
      expect([what, e.code, e.details?.tensor]).toEqual([what, 'IMAGE_BAD_TABLE', 'story.defaults']);
      expect(verifyImage(bad).checks.find((c) => c.check === 'story')).toMatchObject({
        ok: false,
        code: 'IMAGE_BAD_TABLE',
      });
    }
    // the seed has no rule: any u64 reads back
    expect(readImage(resealed((dv) => dv.setBigUint64(8, (1n << 64n) - 1n, true))).story?.seed).toBe(
      (1n << 64n) - 1n,
    );
  });
});
