import { describe, expect, it } from 'vitest';
import { synthesize } from '../synth/synthesize.js';
import { quantize } from './quantize.js';
import { runTrace as run } from './trace.test-helper.js';

describe('synthetic stories15M (q4): a dozen splits equal the unsplit model', () => {
  const qm = quantize(synthesize('15M', 1), { weights: 'q4', groupSize: 32 });
  const splits = [
    [1, 5],
    [2, 4],
    [3, 3],
    [4, 2],
    [5, 1],
    [1, 1, 4],
    [2, 2, 2],
    [3, 2, 1],
    [1, 2, 3],
    [2, 1, 1, 2],
    [1, 1, 1, 1, 2],
    [1, 1, 1, 1, 1, 1],
  ];
  it('greedy, 128 steps, classifier split over the last two stages', { timeout: 300_000 }, () => {
    const reference = run(qm, [6], 1, 128, 0);
    expect(new Set(reference.tokens).size).toBeGreaterThan(5);
    for (const split of splits) {
      const got = run(qm, split, 2, 128, 0);
      expect(got.tokens, `[${split}]`).toEqual(reference.tokens);
      expect(got.logits, `[${split}]`).toBe(reference.logits);
      expect(got.hashes, `[${split}]`).toEqual(reference.hashes);
    }
  });
});
