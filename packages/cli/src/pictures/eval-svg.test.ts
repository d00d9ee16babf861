import { allText, findAll, parseXml } from '@tinypipe/partitioner/testing';
import { describe, expect, it } from 'vitest';
import { EVAL_SVG_BAR_WIDTH, renderEvalSvg } from './eval-svg.js';

const rows = [
  {
    weights: 'q8',
    groupSize: 32,
    positions: 1280,
    top1Agreement: 0.99,
    meanKL: 0.0004,
    perplexity: { reference: 3.2, candidate: 3.21 },
  },
  {
    weights: 'q4',
    groupSize: 32,
    positions: 1280,
    top1Agreement: 0.9,
    meanKL: 0.02,
    perplexity: { reference: 3.2, candidate: 3.5 },
  },
];

describe('renderEvalSvg', () => {
  it('one group per quantization, bars proportional to its figures, labels with the numbers', () => {
    const svg = parseXml(renderEvalSvg({ model: 'stories260K', steps: 256, prompts: 5, rows }));
    const groups = findAll(svg, (e) => e.attrs.class === 'quant');
    expect(groups.map((g) => g.attrs['data-weights'])).toEqual(['q8', 'q4']);
    const w = (i: number, kind: string) =>
      Number(findAll(groups[i]!, (e) => e.attrs['data-kind'] === kind)[0]!.attrs.width);
    expect(w(0, 'top1')).toBeCloseTo(EVAL_SVG_BAR_WIDTH * 0.99, 1);
    expect(w(1, 'top1')).toBeCloseTo(EVAL_SVG_BAR_WIDTH * 0.9, 1);
    expect(w(1, 'kl')).toBeCloseTo(EVAL_SVG_BAR_WIDTH, 1);
    expect(w(0, 'kl')).toBeCloseTo((EVAL_SVG_BAR_WIDTH * 0.0004) / 0.02, 1);
    expect(w(1, 'ppl-quant')).toBeCloseTo(EVAL_SVG_BAR_WIDTH, 1);
    expect(w(1, 'ppl-fp32')).toBeCloseTo((EVAL_SVG_BAR_WIDTH * 3.2) / 3.5, 1);
    const words = allText(groups[1]!);
    expect(words).toContain('top-1 agreement 90.0 %');
    expect(words).toContain('mean KL 0.0200 nats');
    expect(words).toContain('perplexity q4 3.500');
  });
});
