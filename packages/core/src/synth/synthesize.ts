/**
 * Deterministic synthetic checkpoints with the exact shapes of the published llama2.c models, for
 * speed and capacity work without the real weights (which are not bundled).
 */

import { TinypipeError } from '@tinypipe/protocol';
import { type Checkpoint, kvDim, type ModelConfig, type ModelWeights } from '../checkpoint/types.js';

/** The published llama2.c "tinyllamas" shapes (llama2.c README; BRIEF section 3). */
export const MODEL_SHAPES = {
  '260K': {
    dim: 64,
    hiddenDim: 172,
    nLayers: 5,
    nHeads: 8,
    nKvHeads: 4,
    vocabSize: 512,
    seqLen: 512,
    sharedClassifier: true,
  },
  '15M': {
    dim: 288,
    hiddenDim: 768,
    nLayers: 6,
    nHeads: 6,
    nKvHeads: 6,
    vocabSize: 32000,
    seqLen: 256,
    sharedClassifier: true,
  },
  '42M': {
    dim: 512,
    hiddenDim: 1376,
    nLayers: 8,
    nHeads: 8,
    nKvHeads: 8,
    vocabSize: 32000,
    seqLen: 1024,
    sharedClassifier: true,
  },
  '110M': {
    dim: 768,
    hiddenDim: 2048,
    nLayers: 12,
    nHeads: 12,
    nKvHeads: 12,
    vocabSize: 32000,
    seqLen: 1024,
    sharedClassifier: true,
  },
} as const satisfies Record<string, ModelConfig>;

export type ModelShape = keyof typeof MODEL_SHAPES;

/**
 * A seeded PRNG: mulberry32 (a 32-bit state, one multiply-xorshift round per output). Deterministic
 * on every JS engine (integer ops only); not for cryptography.
 */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A checkpoint of the given shape filled from a seeded PRNG: matrices uniform with standard deviation
 * 1/sqrt(fan_in) (so activations keep their scale through the layers), the embedding likewise with
 * fan_in = dim, norm weights uniform in [0.9, 1.1]. Same shape and seed → the same bytes, everywhere.
 *
 * @param shape one of `MODEL_SHAPES` or a custom config
 * @param seed any integer (reduced to 32 bits)
 */
export function synthesize(shape: ModelShape | ModelConfig, seed: number): Checkpoint {
  const config: ModelConfig = typeof shape === 'string' ? MODEL_SHAPES[shape] : shape;
  if (typeof shape === 'string' && !(shape in MODEL_SHAPES)) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `unknown model shape ${shape}: use one of ${Object.keys(MODEL_SHAPES).join(', ')}`,
    );
  }
  if (!Number.isSafeInteger(seed))
    throw new TinypipeError('INVALID_ARGUMENT', `seed must be an integer, got ${seed}`);
  const { dim, hiddenDim, nLayers, vocabSize } = config;
  const kv = kvDim(config);
  const next = mulberry32(seed);

  const uniform = (count: number, fanIn: number): Float32Array => {
    const a = Math.sqrt(3 / fanIn); // uniform(-a, a) has std a/sqrt(3) = 1/sqrt(fan_in)
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = (2 * next() - 1) * a;
    return out;
  };
  const norm = (count: number): Float32Array => {
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = 0.9 + 0.2 * next();
    return out;
  };

  const tokenEmbedding = uniform(vocabSize * dim, dim); // (vocab_size, dim)
  const weights: ModelWeights = {
    tokenEmbedding,
    rmsAtt: norm(nLayers * dim), // (n_layers, dim)
    wq: uniform(nLayers * dim * dim, dim), // (n_layers, dim, dim)
    wk: uniform(nLayers * kv * dim, dim), // (n_layers, kv_dim, dim)
    wv: uniform(nLayers * kv * dim, dim), // (n_layers, kv_dim, dim)
    wo: uniform(nLayers * dim * dim, dim), // (n_layers, dim, dim)
    rmsFfn: norm(nLayers * dim), // (n_layers, dim)
    w1: uniform(nLayers * hiddenDim * dim, dim), // (n_layers, hidden_dim, dim)
    w2: uniform(nLayers * dim * hiddenDim, hiddenDim), // (n_layers, dim, hidden_dim)
    w3: uniform(nLayers * hiddenDim * dim, dim), // (n_layers, hidden_dim, dim)
    rmsFinal: norm(dim), // (dim)
    wcls: config.sharedClassifier ? tokenEmbedding : uniform(vocabSize * dim, dim), // (vocab_size, dim)
  };
  return { config, weights, source: { version: 0 } };
}
