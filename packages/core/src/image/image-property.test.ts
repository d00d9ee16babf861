import { KV_FORMATS } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliceStageWeights } from '../quant/slice.js';
import { planImage } from './format.js';
import { expectSameStage } from './image.test-helper.js';
import { readImage } from './read.js';
import { buildImage, serializeStage } from './serialize.js';
import { type TestModelShape, testModel } from './test-model.js';
import type { StageSelection } from './types.js';

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
        fc.constantFrom(...KV_FORMATS),
        (shape, a, b, emb, c, d, seed, kv) => {
          const from = a % (shape.nLayers + 1);
          const to = from + (b % (shape.nLayers - from + 1));
          const v0 = c % shape.vocabSize;
          const v1 = v0 + 1 + (d % (shape.vocabSize - v0));
          const classifier = [false, true, [v0, v1] as const][(c + d) % 3] as StageSelection['classifier'];
          fc.pre(to > from || emb || classifier !== false);
          const qm = testModel(shape, seed);
          const sel: StageSelection = { layers: [from, to], embedding: emb, classifier };
          const img = buildImage(qm, sel, { kv });
          const read = readImage(img);
          expect([read.header.kv, read.stage.kv]).toEqual([kv, kv]);
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
