/**
 * Test helpers for code built on @tinypipe/core: small deterministic models (no files needed). The
 * in-memory board (`memoryBoard`) is in `@tinypipe/pipeline/testing`; the contract suites, `errorCodeOf`
 * and `EXAMPLE_CALIBRATION` in `@tinypipe/protocol/testing`.
 */
import type { Checkpoint, ModelConfig } from '../checkpoint/types.js';
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
export { CORE_ERROR_CODES, type CoreErrorCodes } from '../errors/codes.js';
