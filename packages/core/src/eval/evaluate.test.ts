import { describe, expect, it } from 'vitest';
import { Fp32Engine } from '../engine/fp32-engine.js';
import { QuantEngine } from '../quant/engine.js';
import { quantize } from '../quant/quantize.js';
import { synthesize } from '../synth/synthesize.js';
import { evaluate, evaluateAsync, evaluateEnginesAsync } from './evaluate.js';

const shape = {
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 64,
  seqLen: 32,
  sharedClassifier: true,
};

describe('evaluate', () => {
  it('an engine against itself: full agreement, zero KL, equal perplexities', () => {
    const ck = synthesize(shape, 3);
    const r = evaluate(new Fp32Engine(ck), new Fp32Engine(ck), [[1], [1, 5, 9]], { steps: 20 });
    expect(r.positions).toBe(38);
    expect(r.top1Agreement).toBe(1);
    expect(r.meanKL).toBeCloseTo(0, 12);
    expect(r.perplexity.candidate).toBeCloseTo(r.perplexity.reference, 9);
    // the text is the reference's greedy continuation: perplexity is finite and at least 1
    expect(r.perplexity.reference).toBeGreaterThanOrEqual(1);
  });

  it('orders candidates by closeness: q8 is closer to fp32 than q4, and an unrelated model is far', () => {
    const ck = synthesize(shape, 4);
    const ref = new Fp32Engine(ck);
    const q8 = evaluate(ref, QuantEngine.fromModel(quantize(ck, { weights: 'q8' })), [[1]], { steps: 32 });
    const q4 = evaluate(ref, QuantEngine.fromModel(quantize(ck, { weights: 'q4' })), [[1]], { steps: 32 });
    const other = evaluate(ref, new Fp32Engine(synthesize(shape, 99)), [[1]], { steps: 32 });
    expect(q8.meanKL).toBeGreaterThan(0);
    expect(q8.meanKL).toBeLessThan(q4.meanKL);
    expect(q4.meanKL).toBeLessThan(other.meanKL);
    expect(q8.top1Agreement).toBeGreaterThanOrEqual(q4.top1Agreement);
  });

  it('rejects empty or too long prompts', () => {
    const e = new Fp32Engine(synthesize(shape, 1));
    expect(() => evaluate(e, e, [])).toThrow(/prompt/);
    expect(() => evaluate(e, e, [new Array(40).fill(1)], { steps: 32 })).toThrow(/prompt/);
  });

  it('evaluateAsync: the same report, progress up to the total, and ABORTED when its signal aborts', async () => {
    const ck = synthesize(shape, 5);
    const q8 = () => QuantEngine.fromModel(quantize(ck, { weights: 'q8' }));
    const sync = evaluate(new Fp32Engine(ck), q8(), [[1], [1, 7]], { steps: 32 });
    const seen: [number, number][] = [];
    const engine = new Fp32Engine(ck);
    let passes = 0;
    const slow = {
      config: ck.config,
      forward: (t: number, p: number) => {
        passes++;
        const until = performance.now() + 1; // 1 ms a pass: progress is reported about every 20 ms
        while (performance.now() < until);
        return engine.forward(t, p);
      },
    };
    const got = await evaluateAsync(slow, q8(), [[1], [1, 7]], {
      steps: 32,
      onProgress: (done, total) => seen.push([done, total]),
    });
    expect(got).toEqual(sync);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every(([d, t]) => t === 2 * 3 * 31 && d <= t)).toBe(true);

    const full = passes; // the slow engine's forward passes in a whole evaluation
    const controller = new AbortController();
    passes = 0;
    const run = evaluateAsync(slow, q8(), [[1], [1, 7]], { steps: 32, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop')), 30);
    await expect(run).rejects.toMatchObject({ code: 'ABORTED' });
    // stopped at the first yield after the abort, well before the end: counted rather than timed (a loaded
    // machine stretches a wall-clock bound, not the count of passes done within ~50 ms of 1 ms passes)
    expect(passes).toBeGreaterThan(0);
    expect(passes).toBeLessThan(full / 2);
  });

  it('evaluateEnginesAsync: several pairs on the first engine’s text, each the report evaluate gives', async () => {
    const ck = synthesize(shape, 6);
    const qm = quantize(ck, { weights: 'q8' });
    const engines = () => [
      new Fp32Engine(ck),
      QuantEngine.fromModel(qm),
      QuantEngine.fromModel(qm, { kv: 'int8' }),
    ];
    const prompts = [[1], [1, 9]];
    const pairs = [
      { reference: 0, candidate: 1 },
      { reference: 0, candidate: 2 },
      { reference: 1, candidate: 2 },
      { reference: 2, candidate: 2 },
    ];
    const [fp32q8, fp32kv, q8kv, self] = await evaluateEnginesAsync(engines(), pairs, prompts, { steps: 32 });
    const [e0, e1, e2] = engines();
    expect(fp32q8).toEqual(evaluate(e0!, e1!, prompts, { steps: 32 }));
    expect(fp32kv).toEqual(evaluate(e0!, e2!, prompts, { steps: 32 }));
    // the same text for every pair: the candidate's perplexity of one pair is the reference's of the next
    expect(q8kv!.perplexity.reference).toBe(fp32q8!.perplexity.candidate);
    expect(q8kv!.perplexity.candidate).toBe(fp32kv!.perplexity.candidate);
    expect(q8kv!.meanKL).toBeGreaterThan(0);
    expect([self!.top1Agreement, self!.meanKL]).toEqual([1, 0]);
    await expect(
      evaluateEnginesAsync(engines(), [{ reference: 0, candidate: 3 }], prompts),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
