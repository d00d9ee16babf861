import { describe, expect, it } from 'vitest';
import { MODEL_SHAPES } from '../synth/synthesize.js';
import { planImage } from './format.js';
import { caught } from './image.test-helper.js';
import { TINY, testModel } from './test-model.js';

describe('planImage', () => {
  it('sizes a stories15M-shaped q4 g32 single-board image from first principles', () => {
    const config = MODEL_SHAPES['15M'];
    const plan = planImage({
      config,
      kind: 'q4',
      groupSize: 32,
      layerRange: [0, 6],
      embedding: true,
      vocab: [0, 32000],
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

describe('planImage input', () => {
  it('sizes a short last group per row (stories260K: hidden_dim 172 = 5 x 32 + 12) and refuses impossible groups', () => {
    const config = { ...testModel(TINY).config, hiddenDim: 172, dim: 64 };
    const layout = {
      config,
      kind: 'q4' as const,
      layerRange: [0, 1] as const,
      embedding: false,
      vocab: undefined,
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
