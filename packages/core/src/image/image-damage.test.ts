import type { ErrorCode } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { caught, FULL, reseal, setU32, u32 } from './image.test-helper.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import { TINY, testModel } from './test-model.js';

describe('readImage refuses damaged images', () => {
  const qm = testModel(TINY, 11);
  const img = buildImage(qm, FULL);
  const { tensors } = readImage(img);
  const tableEnd = 256 + tensors.length * 64;

  /** Which part of the image byte `i` belongs to, and the codes a change (`^ mask`) there may raise. */
  function expectedFor(i: number, mask: number): { codes: ErrorCode[]; tensor?: string } {
    if (i < 4) return { codes: ['IMAGE_BAD_MAGIC'] };
    // version 3 ^ 1 = 2, another version readers accept (kv_format 0 is its reserved zero): the CRC
    if (i < 8) return { codes: [i === 4 && mask === 0x01 ? 'IMAGE_HEADER_CRC' : 'IMAGE_BAD_VERSION'] };
    if (i < 12) return { codes: ['IMAGE_BAD_HEADER'] };
    if (i < 0x30) return { codes: ['IMAGE_HEADER_CRC'] }; // CRC field, fingerprint
    if (i < 0x78) return { codes: ['IMAGE_BAD_HEADER', 'IMAGE_BAD_RANGE', 'IMAGE_HEADER_CRC'] };
    if (i < 0x80) return { codes: ['IMAGE_HEADER_CRC'] }; // build_id (version 2): any value, CRC-covered
    // kv_format (version 3): 0 → 1 is another valid format (fp16), caught by the CRC; any other change
    // leaves 0..2
    if (i < 0x84) return { codes: [i === 0x80 && mask === 0x01 ? 'IMAGE_HEADER_CRC' : 'IMAGE_BAD_HEADER'] };
    if (i < 256) return { codes: ['IMAGE_BAD_HEADER'] }; // reserved
    if (i < tableEnd) return { codes: ['IMAGE_HEADER_CRC'] };
    const t = tensors.find((x) => i >= x.offset && i < x.offset + x.byteLength);
    return t ? { codes: ['IMAGE_TENSOR_CRC'], tensor: t.name } : { codes: ['IMAGE_BAD_PADDING'] };
  }

  it('at every byte, for a one-bit and an eight-bit change, with a code naming the part', () => {
    const seen = new Set<ErrorCode>();
    let padding = 0;
    for (let i = 0; i < img.length; i++) {
      for (const mask of [0x01, 0xff]) {
        const bad = img.slice();
        bad[i] = (bad[i] as number) ^ mask;
        const e = caught(() => readImage(bad));
        const want = expectedFor(i, mask);
        if (!want.codes.includes(e.code)) {
          throw new Error(
            `byte ${i} ^ 0x${mask.toString(16)}: got ${e.code} (${e.message}), want ${want.codes}`,
          );
        }
        if (want.tensor) expect(e.details?.tensor).toBe(want.tensor);
        if (want.tensor) expect(e.message).toContain(want.tensor);
        if (e.code === 'IMAGE_BAD_PADDING') padding++;
        seen.add(e.code);
        if (mask === 0xff) expect(verifyImage(bad).ok).toBe(false);
      }
    }
    // The fixture has padding (88-byte embedding rows block, 44-byte scales...), so every region is exercised.
    expect(padding).toBeGreaterThan(0);
    expect([...seen].sort()).toEqual(
      [
        'IMAGE_BAD_HEADER',
        'IMAGE_BAD_MAGIC',
        'IMAGE_BAD_PADDING',
        'IMAGE_BAD_RANGE',
        'IMAGE_BAD_VERSION',
        'IMAGE_HEADER_CRC',
        'IMAGE_TENSOR_CRC',
      ].sort(),
    );
  });

  it('when truncated anywhere, and when bytes follow the image', () => {
    const mid = tensors[10];
    if (!mid) throw new Error('fixture too small');
    for (const n of [0, 3, 255, 256, tableEnd - 1, tableEnd, mid.offset + 1, img.length - 1]) {
      const e = caught(() => readImage(img.subarray(0, n)));
      expect([n, e.code]).toEqual([n, 'IMAGE_TRUNCATED']);
    }
    const longer = new Uint8Array(img.length + 16);
    longer.set(img);
    expect(caught(() => readImage(longer)).code).toBe('IMAGE_SIZE_MISMATCH');
  });

  it('with a layer or vocab range outside the model, even when the CRC is right', () => {
    const a = reseal(Object.assign(img.slice(), {}));
    setU32(a, 0x54, 4); // layer_to > n_layers
    expect(caught(() => readImage(reseal(a))).code).toBe('IMAGE_BAD_RANGE');
    const b = img.slice();
    setU32(b, 0x60, 12); // vocab_to > vocab_size
    expect(caught(() => readImage(reseal(b))).code).toBe('IMAGE_BAD_RANGE');
    const c = img.slice();
    setU32(c, 0x50, 3); // from > to... to = 3: empty layer range but embedding/classifier set → tensor count wrong
    expect(caught(() => readImage(reseal(c))).code).toBe('IMAGE_BAD_HEADER');
  });

  it('with impossible header fields', () => {
    const cases: [number, number][] = [
      [0x3c, 3], // n_heads 3 does not divide dim 16
      [0x40, 3], // n_kv_heads 3 does not divide n_heads 4
      [0x30, 0], // dim 0
      [0x4c, 2], // shared flag 2
      [0x64, 5], // quant bits
      [0x68, 0], // group size 0
      [0x68, 4096], // group size above the maximum
      [0x58, 7], // unknown flag bit
      [0x6c, 54], // tensor count
      [0x70, 512], // table offset
      [0x74, 100], // image size inside the table
    ];
    for (const [at, v] of cases) {
      const b = img.slice();
      setU32(b, at, v);
      expect([at, caught(() => readImage(reseal(b))).code]).toEqual([at, 'IMAGE_BAD_HEADER']);
    }
  });

  it('with a table that disagrees with the header, even when the CRC is right', () => {
    const entry = (k: number) => 256 + k * 64;
    const edits: [string, (b: Uint8Array) => void][] = [
      ['name', (b) => (b[entry(5)] = 0x4c)],
      ['name not NUL-padded', (b) => (b[entry(5) + 31] = 0x41)],
      ['dtype', (b) => (b[entry(5) + 0x20] = 3)],
      ['rank', (b) => (b[entry(5) + 0x22] = 3)],
      ['shape', (b) => setU32(b, entry(5) + 0x24, 17)],
      ['offset misaligned', (b) => setU32(b, entry(5) + 0x30, u32(b, entry(5) + 0x30) + 4)],
      ['offset overlaps', (b) => setU32(b, entry(5) + 0x30, u32(b, entry(4) + 0x30))],
      ['offset past the end', (b) => setU32(b, entry(tensors.length - 1) + 0x30, img.length)],
      ['byte length', (b) => setU32(b, entry(5) + 0x34, 64)],
      ['reserved', (b) => setU32(b, entry(5) + 0x3c, 1)],
      ['image size past the last tensor', (b) => setU32(b, 0x74, img.length + 16)],
    ];
    for (const [what, edit] of edits) {
      const b = img.slice();
      edit(b);
      expect([what, caught(() => readImage(reseal(b))).code]).toEqual([what, 'IMAGE_BAD_TABLE']);
    }
  });
});
