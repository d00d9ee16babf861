/**
 * Test helpers for code built on @tinypipe/core: small deterministic models (no files needed), a way
 * to assert on error codes, the in-memory transport pair and the Transport contract suite.
 */
import type { Checkpoint, ModelConfig } from '../checkpoint/types.js';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { quantize } from '../quant/quantize.js';
import type { QuantizedModel, QuantKind } from '../quant/types.js';
import { synthesize } from '../synth/synthesize.js';

/** A 2-layer model small enough for unit tests: dim 32, grouped-query attention, 64-token vocabulary. */
export const TINY_CONFIG: ModelConfig = {
  dim: 32,
  hiddenDim: 64,
  nLayers: 2,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 64,
  seqLen: 32,
  sharedClassifier: false,
};

/** A deterministic tiny checkpoint (`synthesize(config, seed)`). */
export function tinyCheckpoint(seed = 1, config: ModelConfig = TINY_CONFIG): Checkpoint {
  return synthesize(config, seed);
}

/** The tiny checkpoint quantized (group 32). */
export function tinyQuantizedModel(
  weights: QuantKind = 'q4',
  seed = 1,
  config: ModelConfig = TINY_CONFIG,
): QuantizedModel {
  return quantize(tinyCheckpoint(seed, config), { weights, groupSize: 32 });
}

/**
 * The `TinypipeError` code `fn` throws (awaited if it returns a promise), or `undefined` when it does not
 * throw. Any other error is rethrown.
 */
export async function errorCodeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e.code;
    throw e;
  }
  return undefined;
}

export { createTransportPair } from '../link/memory-transport.js';
export { linkContract } from './link-contract.js';
export {
  type ContractRunner,
  type TransportContractOptions,
  transportContract,
} from './transport-contract.js';
