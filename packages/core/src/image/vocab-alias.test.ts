/** The deprecated `vocabRange` names (renamed to `vocab`, issue 18) still read and still match. */
import { describe, expect, it } from 'vitest';
import { sliceStageWeights } from '../quant/slice.js';
import { QuantStage } from '../quant/stage.js';
import { planImage } from './format.js';
import { caught } from './image.test-helper.js';
import { checkImageMatches } from './match.js';
import { readImage } from './read.js';
import { buildImage } from './serialize.js';
import { stageLayout } from './stage.js';
import { TINY, testModel } from './test-model.js';

describe('deprecated vocabRange', () => {
  const qm = testModel(TINY, 11);
  const sel = { layers: [1, 3], embedding: false, classifier: [2, 7] } as const;
  const { header, stage } = readImage(buildImage(qm, sel));

  it('reads the same range as vocab on headers, stage weights and QuantStage', () => {
    expect(header.vocab).toEqual([2, 7]);
    expect(header.vocabRange).toBe(header.vocab);
    expect(stage.classifier?.vocab).toEqual([2, 7]);
    expect(stage.classifier?.vocabRange).toBe(stage.classifier?.vocab);
    const sliced = sliceStageWeights(qm, sel);
    expect(sliced.classifier?.vocabRange).toEqual([2, 7]);
    expect(new QuantStage(sliced).vocabRange).toEqual([2, 7]);
  });

  it('is not an own enumerable key, so JSON and spreads carry only vocab', () => {
    expect(Object.keys(header)).toContain('vocab');
    expect(Object.keys(header)).not.toContain('vocabRange');
    expect(JSON.stringify(stage.classifier?.vocab)).toBe('[2,7]');
    expect(Object.keys(stage.classifier ?? {})).not.toContain('vocabRange');
  });

  it('is still honoured as an expectation when vocab is omitted', () => {
    checkImageMatches(header, { vocabRange: [2, 7] });
    const e = caught(() => checkImageMatches(header, { vocabRange: false }));
    expect(e.code).toBe('IMAGE_MISMATCH');
    expect(e.message).toMatch(/classifier vocab range is \[2, 7\), expected none/);
  });

  it('planImage takes a layout written with vocabRange as the same layout with vocab', () => {
    const layout = stageLayout(sliceStageWeights(qm, sel));
    const { vocab, ...rest } = layout;
    const legacy = planImage({ ...rest, vocabRange: vocab });
    expect(legacy).toEqual(planImage(layout));
    expect(legacy.tensors.map((t) => t.name)).toContain('classifier.data');
    expect(planImage({ ...rest, vocabRange: undefined }).tensors.length).toBeLessThan(legacy.tensors.length);
  });
});
