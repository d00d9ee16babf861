/** verifyImage (every check, named) and checkImageMatches (the expected model and stage). */
import { sha256 } from '@noble/hashes/sha256';
import { describe, expect, it } from 'vitest';
import { caught, FULL } from './image.test-helper.js';
import { checkImageMatches } from './match.js';
import { readImage, verifyImage } from './read.js';
import { buildImage } from './serialize.js';
import { TINY, testModel } from './test-model.js';

describe('verifyImage', () => {
  const qm = testModel(TINY, 5);
  const img = buildImage(qm, FULL);

  it('reports every check of a good image as passed', () => {
    const r = verifyImage(img);
    expect(r.ok).toBe(true);
    expect(r.checks.slice(0, 8).map((c) => c.check)).toEqual([
      'length',
      'magic',
      'version',
      'header',
      'table-length',
      'header-crc',
      'table',
      'size',
    ]);
    expect(r.checks.filter((c) => c.check.startsWith('tensor:')).length).toBe(r.tensors?.length);
    expect(r.checks.at(-1)?.check).toBe('padding');
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.sha256).toEqual(sha256(img));
  });

  it('keeps going after a bad tensor and names every damaged one', () => {
    const { tensors } = readImage(img);
    const [a, b] = [tensors[3], tensors[20]];
    if (!a || !b) throw new Error('fixture too small');
    const bad = img.slice();
    bad[a.offset] = (bad[a.offset] as number) ^ 1;
    bad[b.offset + b.byteLength - 1] = (bad[b.offset + b.byteLength - 1] as number) ^ 0x80;
    const r = verifyImage(bad);
    expect(r.ok).toBe(false);
    const failed = r.checks.filter((c) => !c.ok);
    expect(failed.map((c) => [c.check, c.code])).toEqual([
      [`tensor:${a.name}`, 'IMAGE_TENSOR_CRC'],
      [`tensor:${b.name}`, 'IMAGE_TENSOR_CRC'],
    ]);
  });

  it('stops where nothing further can be read', () => {
    expect(verifyImage(new Uint8Array(10)).checks.map((c) => [c.check, c.ok])).toEqual([['length', false]]);
    const notImage = img.slice();
    notImage[0] = 0;
    const r = verifyImage(notImage);
    expect(r.checks.map((c) => [c.check, c.ok, c.code])).toEqual([
      ['length', true, undefined],
      ['magic', false, 'IMAGE_BAD_MAGIC'],
    ]);
    expect(r.header).toBeUndefined();
  });

  it('reports a truncated image and the tensors it lost', () => {
    const { tensors } = readImage(img);
    const last = tensors.at(-1);
    if (!last) throw new Error('no tensors');
    const r = verifyImage(img.subarray(0, last.offset + 1));
    const failed = r.checks.filter((c) => !c.ok).map((c) => [c.check, c.code]);
    expect(failed).toEqual([
      ['size', 'IMAGE_TRUNCATED'],
      [`tensor:${last.name}`, 'IMAGE_TRUNCATED'],
    ]);
  });
});

describe('checkImageMatches', () => {
  const qm = testModel(TINY, 9);
  const { header } = readImage(buildImage(qm, { layers: [1, 3], embedding: false, classifier: [0, 5] }));

  it('accepts the matching expectation and an empty one', () => {
    checkImageMatches(header, {
      fingerprint: qm.fingerprint,
      layerRange: [1, 3],
      embedding: false,
      vocab: [0, 5],
      kind: 'q4',
      groupSize: 8,
    });
    checkImageMatches(header, {});
  });

  it('refuses another model or another stage with IMAGE_MISMATCH, listing each difference', () => {
    const other = qm.fingerprint.slice();
    other[31] = (other[31] as number) ^ 1;
    const e = caught(() =>
      checkImageMatches(header, { fingerprint: other, layerRange: [0, 3], vocab: false }),
    );
    expect(e.code).toBe('IMAGE_MISMATCH');
    expect(e.message).toMatch(/fingerprint/);
    expect(e.message).toMatch(/layers are \[1, 3\), expected \[0, 3\)/);
    expect(e.message).toMatch(/classifier vocab range is \[0, 5\), expected none/);
    expect(caught(() => checkImageMatches(header, { embedding: true })).code).toBe('IMAGE_MISMATCH');
    expect(caught(() => checkImageMatches(header, { kind: 'q8' })).code).toBe('IMAGE_MISMATCH');
  });
});
