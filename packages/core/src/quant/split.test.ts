/**
 * Acceptance: any contiguous split of the layers (and of the classifier's vocabulary) gives the same
 * tokens, the same logits bytes and the same per-layer hashes as the unsplit quantized model.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sha256 } from '@noble/hashes/sha256';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { Sampler } from '../sampler/sampler.js';
import { synthesize } from '../synth/synthesize.js';
import { QuantEngine } from './engine.js';
import { quantize } from './quantize.js';
import type { QuantizedModel } from './types.js';

const checkpoint260K = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url)))),
);

interface Trace {
  tokens: number[];
  /** SHA-256 over every logits vector's bytes, in order */
  logits: string;
  hashes: number[][];
}

function run(
  qm: QuantizedModel,
  split: number[],
  classifierSlices: number,
  steps: number,
  temperature: number,
): Trace {
  const engine = QuantEngine.fromModel(qm, { split, classifierSlices, layerHashes: true });
  const sampler = new Sampler({ vocabSize: qm.config.vocabSize, temperature, topp: 0.9, seed: 1234 });
  const digest = sha256.create();
  const tokens: number[] = [];
  const hashes: number[][] = [];
  let token = 1;
  for (let pos = 0; pos < steps; pos++) {
    const logits = engine.forward(token, pos);
    digest.update(new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
    hashes.push([...engine.lastLayerHashes()]);
    token = sampler.sample(logits.slice());
    tokens.push(token);
  }
  return { tokens, logits: Buffer.from(digest.digest()).toString('hex'), hashes };
}

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
  it('greedy, 24 steps, classifier split over the last two stages', () => {
    const reference = run(qm, [6], 1, 24, 0);
    for (const split of splits) {
      const got = run(qm, split, 2, 24, 0);
      expect(got.tokens, `[${split}]`).toEqual(reference.tokens);
      expect(got.logits, `[${split}]`).toBe(reference.logits);
      expect(got.hashes, `[${split}]`).toEqual(reference.hashes);
    }
  });
});
