/**
 * Acceptance: any contiguous split of the layers (and of the classifier's vocabulary) gives the same
 * tokens, the same logits bytes and the same per-layer hashes as the unsplit quantized model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { quantize } from './quantize.js';
import { runTrace as run } from './trace.test-helper.js';

const checkpoint260K = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url)))),
);

/** Every composition of n into positive parts: all 2^(n-1) contiguous layouts. */
function compositions(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (let first = 1; first <= n; first++)
    for (const rest of compositions(n - first)) out.push([first, ...rest]);
  return out;
}

describe('stories260K: every contiguous split equals the unsplit quantized model', () => {
  const layouts = compositions(checkpoint260K.config.nLayers);
  it('enumerates all 2^(L-1) layouts', () => {
    expect(layouts.length).toBe(2 ** (checkpoint260K.config.nLayers - 1));
  });
  for (const kind of ['q4', 'q8'] as const) {
    const qm = quantize(checkpoint260K, { weights: kind, groupSize: 32 });
    for (const [mode, temperature] of [
      ['greedy', 0],
      ['top-p', 1],
    ] as const) {
      it(`${kind}, ${mode}, 128 steps, ${layouts.length} layouts + vocab-split classifiers`, () => {
        const reference = run(qm, [5], 1, 128, temperature);
        expect(reference.hashes[0]!.length).toBe(5);
        expect(new Set(reference.tokens).size).toBeGreaterThan(5); // a real trajectory, not a constant
        for (const split of layouts) {
          const slices = Math.min(split.length, 3);
          for (const classifierSlices of new Set([1, slices])) {
            const got = run(qm, split, classifierSlices, 128, temperature);
            const label = `split [${split}] classifier in ${classifierSlices}`;
            expect(got.tokens, label).toEqual(reference.tokens);
            expect(got.logits, label).toBe(reference.logits);
            expect(got.hashes, label).toEqual(reference.hashes);
          }
        }
      });
    }
  }
});
