import { sha256 } from '@noble/hashes/sha256';
import { crc32c, type ErrorCode, TinypipeError } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliceStageWeights } from '../quant/slice.js';
import type { QuantTensor, StageWeights } from '../quant/types.js';
import { planImage } from './format.js';
import { checkImageMatches } from './match.js';
import { readImage, verifyImage } from './read.js';
import { buildImage, serializeStage } from './serialize.js';
import { type TestModelShape, TINY, testModel } from './test-model.js';
import type { StageSelection } from './types.js';

/** The error a call throws (fails the test when it does not throw a TinypipeError). */
function caught(fn: () => unknown): TinypipeError {
  try {
    fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a TinypipeError, nothing was thrown');
}

const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
const setU32 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

/** Recompute the header CRC the way docs/image-format.md §3 defines it, so forged tables get past it. */
function reseal(b: Uint8Array): Uint8Array {
  const tableEnd = 256 + u32(b, 0x6c) * 64;
  setU32(b, 0x0c, crc32c(b.subarray(16, tableEnd), crc32c(b.subarray(0, 12))));
  return b;
}

const FULL: StageSelection = { layers: [0, 3], embedding: true, classifier: true };

function sameQuant(a: QuantTensor, b: QuantTensor): void {
  expect({ ...a, data: [...a.data], scales: [...a.scales] }).toEqual({
    ...b,
    data: [...b.data],
    scales: [...b.scales],
  });
}

function expectSameStage(a: StageWeights, b: StageWeights): void {
  expect(a.config).toEqual(b.config);
  expect([a.kind, a.groupSize, [...a.fingerprint], a.layerRange]).toEqual([
    b.kind,
    b.groupSize,
    [...b.fingerprint],
    b.layerRange,
  ]);
  expect(a.layers.length).toBe(b.layers.length);
  a.layers.forEach((L, i) => {
    const M = b.layers[i];
    if (!M) throw new Error('missing layer');
    expect([...L.rmsAtt]).toEqual([...M.rmsAtt]);
    expect([...L.rmsFfn]).toEqual([...M.rmsFfn]);
    for (const k of ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const) sameQuant(L[k], M[k]);
  });
  expect(a.embedding === undefined).toBe(b.embedding === undefined);
  if (a.embedding && b.embedding) sameQuant(a.embedding, b.embedding);
  expect(a.classifier === undefined).toBe(b.classifier === undefined);
  if (a.classifier && b.classifier) {
    expect(a.classifier.vocabRange).toEqual(b.classifier.vocabRange);
    expect([...a.classifier.rmsFinal]).toEqual([...b.classifier.rmsFinal]);
    sameQuant(a.classifier.wcls, b.classifier.wcls);
  }
  expect(a.rope === undefined).toBe(b.rope === undefined);
  if (a.rope && b.rope) {
    expect([...a.rope.cos]).toEqual([...b.rope.cos]);
    expect([...a.rope.sin]).toEqual([...b.rope.sin]);
  }
}

describe('buildImage / readImage', () => {
  const qm = testModel(TINY, 7);
  const img = buildImage(qm, FULL);

  it('writes the header fields at the offsets the spec gives', () => {
    expect([...img.subarray(0, 4)]).toEqual([0x54, 0x50, 0x49, 0x4d]); // "TPIM"
    expect([u32(img, 0x04), u32(img, 0x08)]).toEqual([2, 256]);
    expect([...img.subarray(0x10, 0x30)]).toEqual([...qm.fingerprint]);
    const ints = Array.from({ length: 8 }, (_, i) => u32(img, 0x30 + 4 * i));
    expect(ints).toEqual([16, 24, 3, 4, 2, 11, 6, 0]);
    // layers [0,3), flags = embedding|classifier, vocab [0,11), q4, g8
    expect(Array.from({ length: 7 }, (_, i) => u32(img, 0x50 + 4 * i))).toEqual([0, 3, 3, 0, 11, 4, 8]);
    // 2 embedding + 2 rope + 16 per layer + rms_final + classifier data/scales
    const count = 2 + 2 + 16 * 3 + 3;
    expect([u32(img, 0x6c), u32(img, 0x70), u32(img, 0x74)]).toEqual([count, 256, img.length]);
    expect(img.subarray(0x78, 0x100).every((b) => b === 0)).toBe(true); // build id none, reserved
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

describe('readImage refuses damaged images', () => {
  const qm = testModel(TINY, 11);
  const img = buildImage(qm, FULL);
  const { tensors } = readImage(img);
  const tableEnd = 256 + tensors.length * 64;

  /** Which part of the image byte `i` belongs to, and the codes a change there may raise. */
  function expectedFor(i: number): { codes: ErrorCode[]; tensor?: string } {
    if (i < 4) return { codes: ['IMAGE_BAD_MAGIC'] };
    if (i < 8) return { codes: ['IMAGE_BAD_VERSION'] };
    if (i < 12) return { codes: ['IMAGE_BAD_HEADER'] };
    if (i < 0x30) return { codes: ['IMAGE_HEADER_CRC'] }; // CRC field, fingerprint
    if (i < 0x78) return { codes: ['IMAGE_BAD_HEADER', 'IMAGE_BAD_RANGE', 'IMAGE_HEADER_CRC'] };
    if (i < 0x80) return { codes: ['IMAGE_HEADER_CRC'] }; // build_id (version 2): any value, CRC-covered
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
        const want = expectedFor(i);
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
      vocabRange: [0, 5],
      kind: 'q4',
      groupSize: 8,
    });
    checkImageMatches(header, {});
  });

  it('refuses another model or another stage with IMAGE_MISMATCH, listing each difference', () => {
    const other = qm.fingerprint.slice();
    other[31] = (other[31] as number) ^ 1;
    const e = caught(() =>
      checkImageMatches(header, { fingerprint: other, layerRange: [0, 3], vocabRange: false }),
    );
    expect(e.code).toBe('IMAGE_MISMATCH');
    expect(e.message).toMatch(/fingerprint/);
    expect(e.message).toMatch(/layers are \[1, 3\), expected \[0, 3\)/);
    expect(e.message).toMatch(/classifier vocab range is \[0, 5\), expected none/);
    expect(caught(() => checkImageMatches(header, { embedding: true })).code).toBe('IMAGE_MISMATCH');
    expect(caught(() => checkImageMatches(header, { kind: 'q8' })).code).toBe('IMAGE_MISMATCH');
  });
});

describe('planImage', () => {
  it('sizes a stories15M-shaped q4 g32 single-board image from first principles', () => {
    const config = {
      dim: 288,
      hiddenDim: 768,
      nLayers: 6,
      nHeads: 6,
      nKvHeads: 6,
      vocabSize: 32000,
      seqLen: 256,
      sharedClassifier: true,
    };
    const plan = planImage({
      config,
      kind: 'q4',
      groupSize: 32,
      layerRange: [0, 6],
      embedding: true,
      vocabRange: [0, 32000],
    });
    // int4 weights: half a byte each; fp16 scales: 2 bytes per 32 weights; fp32 norms and RoPE.
    const quantParams = 32000 * 288 + 6 * (4 * 288 * 288 + 3 * 288 * 768);
    const fp32 = 6 * 2 * 288 + 288 + 2 * 256 * 24;
    const tensors = 2 + 2 + 16 * 6 + 1;
    const expected = 256 + 64 * tensors + quantParams / 2 + (quantParams / 32) * 2 + fp32 * 4;
    expect(plan.imageSize).toBe(expected); // every 15M tensor is a multiple of 16 bytes: no padding
    // BRIEF §3: 15M at INT4 g32 streams about 8.5–9.5 MB per token.
    expect(plan.imageSize).toBeGreaterThan(8.5e6);
    expect(plan.imageSize).toBeLessThan(9.5e6);
  });
});

describe('property: any small model and stage round-trips', () => {
  const shapeArb = fc
    .record({
      nKvHeads: fc.integer({ min: 1, max: 2 }),
      headsPerKv: fc.integer({ min: 1, max: 2 }),
      halfHead: fc.integer({ min: 1, max: 3 }),
      groupPick: fc.integer({ min: 0, max: 2 }),
      hiddenMul: fc.integer({ min: 1, max: 3 }),
      nLayers: fc.integer({ min: 1, max: 3 }),
      vocabSize: fc.integer({ min: 1, max: 9 }),
      seqLen: fc.integer({ min: 1, max: 4 }),
      sharedClassifier: fc.boolean(),
      q4: fc.boolean(),
    })
    .map((r): TestModelShape => {
      const nHeads = r.nKvHeads * r.headsPerKv;
      const dim = nHeads * 2 * r.halfHead;
      const groups = [1, 2, dim].filter((g) => dim % g === 0);
      const groupSize = groups[r.groupPick % groups.length] as number;
      return {
        dim,
        hiddenDim: groupSize * 2 * r.hiddenMul,
        nLayers: r.nLayers,
        nHeads,
        nKvHeads: r.nKvHeads,
        vocabSize: r.vocabSize,
        seqLen: r.seqLen,
        sharedClassifier: r.sharedClassifier,
        kind: r.q4 ? 'q4' : 'q8',
        groupSize,
      };
    });

  it('build → read → serialize is byte-identical and the weights come back unchanged', () => {
    fc.assert(
      fc.property(
        shapeArb,
        fc.nat(),
        fc.nat(),
        fc.boolean(),
        fc.nat(),
        fc.nat(),
        fc.integer(),
        (shape, a, b, emb, c, d, seed) => {
          const from = a % (shape.nLayers + 1);
          const to = from + (b % (shape.nLayers - from + 1));
          const v0 = c % shape.vocabSize;
          const v1 = v0 + 1 + (d % (shape.vocabSize - v0));
          const classifier = [false, true, [v0, v1] as const][(c + d) % 3] as StageSelection['classifier'];
          fc.pre(to > from || emb || classifier !== false);
          const qm = testModel(shape, seed);
          const sel: StageSelection = { layers: [from, to], embedding: emb, classifier };
          const img = buildImage(qm, sel);
          const read = readImage(img);
          expect(serializeStage(read.stage)).toEqual(img);
          expectSameStage(read.stage, sliceStageWeights(qm, sel));
          expect(read.tensors.every((t) => t.offset % 16 === 0)).toBe(true);
          expect(planImage(read.header).imageSize).toBe(img.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('planImage input', () => {
  it('sizes a short last group per row (stories260K: hidden_dim 172 = 5 x 32 + 12) and refuses impossible groups', () => {
    const config = { ...testModel(TINY).config, hiddenDim: 172, dim: 64 };
    const layout = {
      config,
      kind: 'q4' as const,
      layerRange: [0, 1] as const,
      embedding: false,
      vocabRange: undefined,
    };
    const w2 = planImage({ ...layout, groupSize: 32 }).tensors.find((t) => t.name === 'layers.0.w2.scales')!;
    expect(w2.shape).toEqual([64, 6]);
    expect(w2.byteLength).toBe(64 * 6 * 2);
    expect(caught(() => planImage({ ...layout, groupSize: 0 })).code).toBe('QUANT_BAD_GROUP');
    expect(caught(() => planImage({ ...layout, groupSize: 4096 })).code).toBe('QUANT_BAD_GROUP');
    expect(
      caught(() => planImage({ ...layout, config: { ...config, hiddenDim: 171 }, groupSize: 32 })).code,
    ).toBe('QUANT_BAD_GROUP');
    expect(planImage({ ...layout, groupSize: 4 }).imageSize).toBeGreaterThan(0);
  });
});
