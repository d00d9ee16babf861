/** buildImage / readImage: layout, round trip, partial stages, refused inputs. */
import { sha256 } from '@noble/hashes/sha256';
import { crc32c } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { sliceStageWeights } from '../quant/slice.js';
import type { QuantTensor, StageWeights } from '../quant/types.js';
import { planImage } from './format.js';
import { caught, expectSameStage, FULL, sameQuant, u32 } from './image.test-helper.js';
import { readImage } from './read.js';
import { buildImage, serializeStage } from './serialize.js';
import { TINY, testModel } from './test-model.js';
import type { StageSelection } from './types.js';

describe('buildImage / readImage', () => {
  const qm = testModel(TINY, 7);
  const img = buildImage(qm, FULL);

  it('writes the header fields at the offsets the spec gives', () => {
    expect([...img.subarray(0, 4)]).toEqual([0x54, 0x50, 0x49, 0x4d]); // "TPIM"
    expect([u32(img, 0x04), u32(img, 0x08)]).toEqual([3, 256]);
    expect([...img.subarray(0x10, 0x30)]).toEqual([...qm.fingerprint]);
    const ints = Array.from({ length: 8 }, (_, i) => u32(img, 0x30 + 4 * i));
    expect(ints).toEqual([16, 24, 3, 4, 2, 11, 6, 0]);
    // layers [0,3), flags = embedding|classifier, vocab [0,11), q4, g8
    expect(Array.from({ length: 7 }, (_, i) => u32(img, 0x50 + 4 * i))).toEqual([0, 3, 3, 0, 11, 4, 8]);
    // 2 embedding + 2 rope + 16 per layer + rms_final + classifier data/scales
    const count = 2 + 2 + 16 * 3 + 3;
    expect([u32(img, 0x6c), u32(img, 0x70), u32(img, 0x74)]).toEqual([count, 256, img.length]);
    // build id none, kv_format 0 (fp32), reserved
    expect(img.subarray(0x78, 0x100).every((b) => b === 0)).toBe(true);
    expect(u32(img, 0x0c)).toBe(crc32c(img.subarray(16, 256 + count * 64), crc32c(img.subarray(0, 12))));
  });

  it('lays tensors out in table order, 16-byte aligned, each with the CRC of its bytes', () => {
    const { tensors } = readImage(img);
    expect(tensors.map((t) => t.name).slice(0, 8)).toEqual([
      'embedding.data',
      'embedding.scales',
      'rope.cos',
      'rope.sin',
      'layers.0.rms_att',
      'layers.0.wq.data',
      'layers.0.wq.scales',
      'layers.0.wk.data',
    ]);
    expect(tensors.map((t) => t.name).slice(-6)).toEqual([
      'layers.2.w3.scales',
      'layers.2.w2.data',
      'layers.2.w2.scales',
      'rms_final',
      'classifier.data',
      'classifier.scales',
    ]);
    let prevEnd = 256 + tensors.length * 64;
    for (const t of tensors) {
      expect(t.offset % 16).toBe(0);
      expect(t.offset).toBe(Math.ceil(prevEnd / 16) * 16);
      expect(t.crc32c).toBe(crc32c(img.subarray(t.offset, t.offset + t.byteLength)));
      prevEnd = t.offset + t.byteLength;
    }
    expect(prevEnd).toBe(img.length);
    const emb = tensors[0];
    expect(emb).toMatchObject({ dtype: 'i4x2', shape: [11, 16], byteLength: (11 * 16) / 2 });
    expect(tensors[1]).toMatchObject({ dtype: 'f16', shape: [11, 2], byteLength: 11 * 2 * 2 });
    expect(tensors[2]).toMatchObject({ dtype: 'f32', shape: [6, 2], byteLength: 6 * 2 * 4 });
  });

  it('round-trips byte for byte and gives back the same weights', () => {
    const read = readImage(img);
    expect(serializeStage(read.stage)).toEqual(img);
    expectSameStage(read.stage, sliceStageWeights(qm, FULL));
    expect(read.sha256).toEqual(sha256(img));
    expect(planImage({ ...read.header }).imageSize).toBe(img.length);
  });

  it('returns zero-copy views into the bytes', () => {
    const copy = img.slice();
    const read = readImage(copy);
    const wq = read.stage.layers[0]?.wq;
    expect(wq?.data.buffer).toBe(copy.buffer);
    expect(read.stage.rope?.cos.buffer).toBe(copy.buffer);
  });

  it('reads an image whose bytes start at an odd offset (one aligned copy)', () => {
    const big = new Uint8Array(img.length + 1);
    big.set(img, 1);
    const read = readImage(big.subarray(1));
    expect(serializeStage(read.stage)).toEqual(img);
    // Node Buffers: `slice` is a view there, so the copy must not rely on it.
    const buf = Buffer.alloc(img.length + 3);
    buf.set(img, 3);
    expect(serializeStage(readImage(buf.subarray(3)).stage)).toEqual(img);
  });

  it('builds partial stages: middle layers only, classifier slice only', () => {
    const mid = buildImage(qm, { layers: [1, 2], embedding: false, classifier: false });
    const m = readImage(mid);
    expect(m.tensors.map((t) => t.name)[2]).toBe('layers.1.rms_att');
    expect(m.tensors.length).toBe(2 + 16);
    expect(m.stage.embedding).toBeUndefined();
    expect(m.stage.classifier).toBeUndefined();
    expectSameStage(m.stage, sliceStageWeights(qm, { layers: [1, 2], embedding: false, classifier: false }));

    const tail = buildImage(qm, { layers: [3, 3], embedding: false, classifier: [4, 9] });
    const t = readImage(tail);
    expect(t.tensors.map((x) => x.name)).toEqual(['rms_final', 'classifier.data', 'classifier.scales']);
    expect(t.stage.rope).toBeUndefined();
    expect(t.stage.classifier?.wcls.rows).toBe(5);
    // rows 4..8 of the classifier: 8 bytes per q4 row of 16, 2 scales per row
    expect([...(t.stage.classifier?.wcls.data ?? [])]).toEqual([...qm.wcls.data.subarray(4 * 8, 9 * 8)]);
    expect([...(t.stage.classifier?.wcls.scales ?? [])]).toEqual([...qm.wcls.scales.subarray(4 * 2, 9 * 2)]);
  });

  it('stores a shared classifier once when the embedding is on the same stage', () => {
    const shared = testModel({ ...TINY, sharedClassifier: true }, 3);
    const both = readImage(buildImage(shared, FULL));
    expect(both.tensors.some((t) => t.name.startsWith('classifier'))).toBe(false);
    expect(both.header.tensorCount).toBe(2 + 2 + 48 + 1);
    sameQuant(both.stage.classifier?.wcls as QuantTensor, shared.tokenEmbedding);
    expect(serializeStage(both.stage)).toEqual(buildImage(shared, FULL));

    const slice = readImage(buildImage(shared, { layers: [0, 0], embedding: true, classifier: [2, 5] }));
    expect(slice.stage.classifier?.wcls.rows).toBe(3);
    expect([...(slice.stage.classifier?.wcls.data ?? [])]).toEqual([
      ...shared.tokenEmbedding.data.subarray(16, 40),
    ]);

    const lastOnly = readImage(buildImage(shared, { layers: [2, 3], embedding: false, classifier: true }));
    expect(lastOnly.tensors.map((t) => t.name).slice(-2)).toEqual(['classifier.data', 'classifier.scales']);
    sameQuant(lastOnly.stage.classifier?.wcls as QuantTensor, shared.tokenEmbedding);
  });

  it('refuses a shared-classifier stage whose classifier differs from the embedding', () => {
    const shared = testModel({ ...TINY, sharedClassifier: true }, 3);
    const stage = sliceStageWeights(shared, FULL);
    const other = testModel({ ...TINY, sharedClassifier: true }, 4).tokenEmbedding;
    const bad = {
      ...stage,
      classifier: { ...(stage.classifier as NonNullable<StageWeights['classifier']>), wcls: other },
    };
    expect(caught(() => serializeStage(bad)).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses stage tensors whose kind, shape or length disagree with the config', () => {
    const stage = sliceStageWeights(qm, FULL);
    const L0 = stage.layers[0];
    if (!L0) throw new Error('no layer');
    const cases: StageWeights[] = [
      { ...stage, layers: [{ ...L0, rmsAtt: L0.rmsAtt.subarray(1) }, ...stage.layers.slice(1)] },
      { ...stage, layers: [{ ...L0, wk: L0.wq }, ...stage.layers.slice(1)] },
      { ...stage, layers: [{ ...L0, w1: { ...L0.w1, kind: 'q8' } }, ...stage.layers.slice(1)] },
      {
        ...stage,
        layers: [{ ...L0, w2: { ...L0.w2, scales: L0.w2.scales.subarray(2) } }, ...stage.layers.slice(1)],
      },
      { ...stage, layers: stage.layers.slice(1) },
      { ...stage, fingerprint: new Uint8Array(31) },
      { ...stage, config: { ...stage.config, nHeads: 3 } },
      { ...stage, config: { ...stage.config, nKvHeads: 3 } },
      { ...stage, config: { ...stage.config, seqLen: 0 } },
      { ...stage, kind: 'q5' as 'q4' },
    ];
    for (const c of cases) expect(caught(() => serializeStage(c)).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => serializeStage({ ...stage, groupSize: 0 })).code).toBe('QUANT_BAD_GROUP');
    // a legal group size that the tensors were not quantized with
    expect(caught(() => serializeStage({ ...stage, groupSize: 5 })).code).toBe('INVALID_ARGUMENT');
  });

  it('refuses layer ranges and vocab slices outside the model with IMAGE_BAD_RANGE', () => {
    const bad: StageSelection[] = [
      { layers: [0, 4], embedding: true, classifier: false },
      { layers: [2, 1], embedding: true, classifier: false },
      { layers: [-1, 1], embedding: false, classifier: false },
      { layers: [0, 1.5], embedding: false, classifier: false },
      { layers: [0, 1], embedding: false, classifier: [0, 12] },
      { layers: [0, 1], embedding: false, classifier: [5, 5] },
      { layers: [1, 1], embedding: false, classifier: false },
    ];
    for (const sel of bad) {
      const e = caught(() => buildImage(qm, sel));
      expect(e.code).toBe('IMAGE_BAD_RANGE');
    }
    expect(caught(() => buildImage(qm, bad[0] as StageSelection)).message).toMatch(/\[0, 4\).*3 layers/);
  });
});
