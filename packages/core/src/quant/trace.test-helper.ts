/** Test helper: run a split quantized engine and record what must not depend on the split. */
import { sha256 } from '@noble/hashes/sha256';
import { Sampler } from '../sampler/sampler.js';
import { QuantEngine, type QuantEngineOptions } from './engine.js';
import type { QuantizedModel } from './types.js';

export interface Trace {
  tokens: number[];
  /** SHA-256 over every logits vector's bytes, in order */
  logits: string;
  hashes: number[][];
}

export function runTrace(
  qm: QuantizedModel,
  split: number[],
  classifierSlices: number,
  steps: number,
  temperature: number,
  options: QuantEngineOptions = {},
): Trace {
  const engine = QuantEngine.fromModel(qm, { ...options, split, classifierSlices, layerHashes: true });
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
