/**
 * Property-based fuzzing of the weight-image readers (issue 17, item 6): `readImage`, `verifyImage` and
 * the validation they share (`inspectImage`). Arbitrary bytes, valid images of random stages and their
 * mutations: single-bit flips anywhere (every one must be caught: header and table by the header CRC,
 * tensors by their CRCs, padding by the padding check), cuts and extensions, and header fields set to
 * hostile values with the header CRC recomputed so the field checks themselves are reached. Replay a
 * failure with the seed fast-check prints: `FC_SEED=<seed> npx vitest run src/image`.
 */

import { KV_FORMATS } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { HEADER, IMAGE_HEADER_BYTES } from './format.js';
import { computeHeaderCrc, tableEnd } from './header.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import { TINY, testModel } from './test-model.js';
import type { ImageContents, StageSelection } from './types.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

const CODES = [
  'IMAGE_TRUNCATED',
  'IMAGE_BAD_MAGIC',
  'IMAGE_BAD_VERSION',
  'IMAGE_BAD_HEADER',
  'IMAGE_BAD_RANGE',
  'IMAGE_HEADER_CRC',
  'IMAGE_BAD_TABLE',
  'IMAGE_SIZE_MISMATCH',
  'IMAGE_TENSOR_CRC',
  'IMAGE_BAD_PADDING',
];

function readOrCode(bytes: Uint8Array): ImageContents | string {
  let r: ImageContents | undefined;
  const code = codeOf(() => {
    r = readImage(bytes);
  });
  return r ?? code;
}

/**
 * readImage and verifyImage agree: readImage throws the first check verifyImage reports failed (by code),
 * or reads exactly when verifyImage says ok. verifyImage never throws.
 */
function check(bytes: Uint8Array): ImageContents | string {
  const r = readOrCode(bytes);
  const report = verifyImage(bytes);
  expect(report.byteLength).toBe(bytes.length);
  if (typeof r === 'string') {
    expect(CODES).toContain(r);
    expect(report.ok).toBe(false);
    expect(report.checks.find((c) => !c.ok)?.code).toBe(r);
  } else {
    expect(report.ok).toBe(true);
    expect(report.header).toEqual(r.header);
  }
  return r;
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

/** Recomputes the header CRC (over the table the header's tensor count implies, as far as the bytes go). */
function reseal(b: Uint8Array): Uint8Array {
  const end = Math.min(b.length, tableEnd(u32(b, HEADER.tensorCount)));
  setU32(b, HEADER.headerCrc, computeHeaderCrc(b, end));
  return b;
}

// a few valid images of different stages (q4 and q8, shared and separate classifier), built once
const SELECTIONS: StageSelection[] = [
  { layers: [0, 3], embedding: true, classifier: true },
  { layers: [1, 2], embedding: false, classifier: false },
  { layers: [3, 3], embedding: false, classifier: [4, 9] },
  { layers: [0, 1], embedding: true, classifier: false },
  { layers: [2, 3], embedding: false, classifier: true },
];
const IMAGES: Uint8Array[] = [
  testModel(TINY, 1),
  testModel({ ...TINY, kind: 'q8', sharedClassifier: true }, 2),
].flatMap((qm) => SELECTIONS.map((s, i) => buildImage(qm, s, { kv: KV_FORMATS[i % 3] })));
const image = fc.constantFrom(...IMAGES);

/**
 * Byte offsets of the header's u32 fields up to kv_format (all but magic and version, which have their
 * own checks).
 */
const FIELD_OFFSETS = Object.entries(HEADER)
  .filter(
    ([name, at]) => typeof at === 'number' && at % 4 === 0 && at < HEADER.reserved && name !== 'headerCrc',
  )
  .map(([, at]) => at as number);

describe('weight image readers (fuzz)', () => {
  it('arbitrary bytes, and bytes behind a valid magic and version: an image or an IMAGE_* error, both readers agreeing', () => {
    const prefixed = fc
      .tuple(fc.constantFrom(...IMAGES), fc.uint8Array({ minLength: 0, maxLength: 2 * IMAGE_HEADER_BYTES }))
      .map(([img, tail]) => Uint8Array.of(...img.subarray(0, 8), ...tail));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 600 }), prefixed), (b) => {
        check(b);
      }),
      runs(2000),
    );
  });

  it('round trip: every valid image reads and verifies', () => {
    for (const img of IMAGES) {
      const r = check(img);
      expect(typeof r).not.toBe('string');
    }
  });

  it('every single-bit flip anywhere in a valid image is a coded error', () => {
    fc.assert(
      fc.property(image, fc.nat(), (img, bitIndex) => {
        const bit = bitIndex % (img.length * 8);
        const b = img.slice();
        b[bit >> 3]! ^= 1 << (bit & 7);
        expect(CODES).toContain(check(b));
      }),
      runs(3000),
    );
  });

  it('cut or extended images are IMAGE_TRUNCATED or IMAGE_SIZE_MISMATCH', () => {
    fc.assert(
      fc.property(image, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 70 }), (img, cut, extra) => {
        expect(check(img.subarray(0, cut % img.length))).toBe('IMAGE_TRUNCATED');
        expect(check(Uint8Array.of(...img, ...extra))).toBe('IMAGE_SIZE_MISMATCH');
      }),
      runs(1000),
    );
  });

  it('hostile header fields behind a good header CRC (2^31, 2^32 − 1, 0…): a coded error or a valid image, nothing allocated for them', () => {
    const hostile = fc.oneof(
      fc.constantFrom(0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0x04000000),
      fc.integer({ min: 0, max: 0xffffffff }),
    );
    fc.assert(
      fc.property(
        image,
        fc.array(fc.tuple(fc.constantFrom(...FIELD_OFFSETS), hostile), { minLength: 1, maxLength: 3 }),
        (img, sets) => {
          const b = img.slice();
          for (const [at, v] of sets) setU32(b, at, v);
          check(reseal(b));
        },
      ),
      runs(2000),
    );
  });

  it('resealed random bytes in the header and table: a coded error or a valid image', () => {
    fc.assert(
      fc.property(
        image,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (img, pokes) => {
          const b = img.slice();
          const end = tableEnd(u32(img, HEADER.tensorCount));
          for (const [at, v] of pokes) b[8 + (at % (end - 8))] = v; // past magic and version
          check(reseal(b));
        },
      ),
      runs(2000),
    );
  });
});
