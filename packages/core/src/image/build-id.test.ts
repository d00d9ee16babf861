import { crc32c } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { imageBuildId, stampBuildId, unstampBuildId } from './build-id.js';
import { caught, reseal } from './image.test-helper.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import { TINY, testModel } from './test-model.js';

const qm = testModel(TINY, 3);
const SEL = { layers: [0, 2] as [number, number], embedding: true, classifier: false };
const ID = Uint8Array.of(0xde, 0xad, 0xbe, 0xef, 0x01, 0x23, 0x45, 0x67);
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

/** `img` rewritten as a version-1 image: version 1, the build id bytes back to reserved (zero), CRC fixed. */
function asVersion1(img: Uint8Array): Uint8Array {
  const out = img.slice();
  dv(out).setUint32(4, 1, true);
  out.fill(0, 0x78, 0x80);
  return reseal(out);
}

describe('image header build_id (version 2 and later)', () => {
  it('buildImage writes version 3 with a zero build id, or the one it is given', () => {
    const plain = buildImage(qm, SEL);
    expect(dv(plain).getUint32(4, true)).toBe(3);
    expect([...readImage(plain).header.buildId]).toEqual(new Array(8).fill(0));
    const stamped = buildImage(qm, SEL, { buildId: ID });
    expect([...stamped.subarray(0x78, 0x80)]).toEqual([...ID]);
    expect([...readImage(stamped).header.buildId]).toEqual([...ID]);
    expect(verifyImage(stamped).ok).toBe(true);
    // only the build id and the header CRC differ
    const diff = [...plain.keys()].filter((i) => plain[i] !== stamped[i]);
    expect(diff.every((i) => (i >= 0x78 && i < 0x80) || (i >= 0x0c && i < 0x10))).toBe(true);
    expect(caught(() => buildImage(qm, SEL, { buildId: new Uint8Array(7) })).code).toBe('INVALID_ARGUMENT');
  });

  it('stampBuildId gives the bytes buildImage writes with that id; unstampBuildId undoes it', () => {
    const plain = buildImage(qm, SEL);
    const stamped = stampBuildId(plain, ID);
    expect(stamped).toEqual(buildImage(qm, SEL, { buildId: ID }));
    expect(plain.subarray(0x78, 0x80).every((b) => b === 0)).toBe(true); // the input is not touched
    expect([...imageBuildId(stamped)]).toEqual([...ID]);
    expect(unstampBuildId(stamped)).toEqual(plain);
    expect(caught(() => stampBuildId(plain, new Uint8Array(9))).code).toBe('INVALID_ARGUMENT');
  });

  it('reads a version-1 image (no build id: all zero) and refuses version 1 with bytes in 0x78..0x80', () => {
    const v1 = asVersion1(buildImage(qm, SEL, { buildId: ID }));
    const h = readImage(v1).header;
    expect(h.version).toBe(1);
    expect([...h.buildId]).toEqual(new Array(8).fill(0));
    expect(verifyImage(v1).checks.find((c) => c.check === 'version')?.message).toBe('version 1');
    // the same bytes are reserved in version 1: a non-zero byte there is a bad header, not a build id
    const bad = v1.slice();
    bad[0x7a] = 1;
    const end = 256 + dv(bad).getUint32(0x6c, true) * 64;
    dv(bad).setUint32(0x0c, crc32c(bad.subarray(16, end), crc32c(bad.subarray(0, 12))), true);
    const e = caught(() => readImage(bad));
    expect(e.code).toBe('IMAGE_BAD_HEADER');
    expect(e.details).toMatchObject({ field: 'reserved', offset: 0x7a });
    expect(caught(() => stampBuildId(v1, ID)).code).toBe('IMAGE_BAD_VERSION');
  });

  it('refuses versions other than 1, 2 and 3, and a non-zero reserved byte after the tokenizer fields', () => {
    for (const version of [0, 4, 0xffffffff]) {
      const img = buildImage(qm, SEL).slice();
      dv(img).setUint32(4, version, true);
      const e = caught(() => readImage(img));
      expect(e.code).toBe('IMAGE_BAD_VERSION');
      expect(e.details).toMatchObject({ actual: version });
    }
    const img = buildImage(qm, SEL, { buildId: ID }).slice();
    img[0x90] = 1; // 0x84..0x8F: the tokenizer fields and story_bytes (zero without their flags)
    expect(caught(() => readImage(img)).details).toMatchObject({ field: 'reserved', offset: 0x90 });
  });
});
