import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImage } from './read.js';
import { buildImage } from './serialize.js';
import { testModel } from './test-model.js';

const DOC = new URL('../../../../docs/image-format.md', import.meta.url);

/** The bytes of the hexdump that follows `<!-- hexdump:example -->` in the spec. */
function docHexdump(): { offset: number; bytes: number[] }[] {
  const text = readFileSync(DOC, 'utf8');
  const start = text.indexOf('<!-- hexdump:example -->');
  expect(start).toBeGreaterThan(0);
  const block = text.slice(start).split('```')[1] ?? '';
  return block
    .split('\n')
    .filter((l) => /^[0-9a-f]{8} {2}/.test(l))
    .map((l) => ({
      offset: Number.parseInt(l.slice(0, 8), 16),
      bytes: (l.slice(10, 59).match(/[0-9a-f]{2}/g) ?? []).map((h) => Number.parseInt(h, 16)),
    }));
}

describe('docs/image-format.md', () => {
  it('shows exactly the header and first table entries buildImage writes for its example', () => {
    const qm = testModel(
      {
        dim: 8,
        hiddenDim: 16,
        nLayers: 2,
        nHeads: 2,
        nKvHeads: 1,
        vocabSize: 8,
        seqLen: 4,
        sharedClassifier: true,
        kind: 'q4',
        groupSize: 8,
      },
      1,
    );
    const fingerprint = Uint8Array.from({ length: 32 }, (_, i) => i);
    const buildId = Uint8Array.from({ length: 8 }, (_, i) => 0xf0 + i);
    const img = buildImage(
      { ...qm, fingerprint },
      { layers: [0, 1], embedding: true, classifier: false },
      { buildId, kv: 'int8' },
    );
    const lines = docHexdump();
    expect(lines.length).toBe((256 + 3 * 64) / 16);
    for (const { offset, bytes } of lines) {
      expect([offset, bytes]).toEqual([offset, [...img.subarray(offset, offset + 16)]]);
    }
    const r = readImage(img);
    expect([img.length, r.header.tensorCount]).toEqual([2160, 20]);
  });
});
