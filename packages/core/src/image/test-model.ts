/**
 * Test fixture (not exported from the package): a small random `QuantizedModel` built directly,
 * so image tests do not depend on the quantizer. Values are arbitrary bit patterns — the image
 * format stores bytes, it does not interpret them.
 */
import type { ModelConfig } from '../checkpoint/types.js';
import { headSize, kvDim } from '../checkpoint/types.js';
import type { QuantizedModel, QuantKind, QuantLayer, QuantTensor } from '../quant/types.js';

export interface TestModelShape {
  readonly dim: number;
  readonly hiddenDim: number;
  readonly nLayers: number;
  readonly nHeads: number;
  readonly nKvHeads: number;
  readonly vocabSize: number;
  readonly seqLen: number;
  readonly sharedClassifier: boolean;
  readonly kind: QuantKind;
  readonly groupSize: number;
}

export const TINY: TestModelShape = {
  dim: 16,
  hiddenDim: 24,
  nLayers: 3,
  nHeads: 4,
  nKvHeads: 2,
  vocabSize: 11,
  seqLen: 6,
  sharedClassifier: false,
  kind: 'q4',
  groupSize: 8,
};

/** mulberry32: a tiny seeded PRNG, enough to fill fixtures reproducibly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export function testModel(shape: TestModelShape, seed = 1): QuantizedModel {
  const next = rng(seed);
  const config: ModelConfig = {
    dim: shape.dim,
    hiddenDim: shape.hiddenDim,
    nLayers: shape.nLayers,
    nHeads: shape.nHeads,
    nKvHeads: shape.nKvHeads,
    vocabSize: shape.vocabSize,
    seqLen: shape.seqLen,
    sharedClassifier: shape.sharedClassifier,
  };
  const f32 = (n: number) => Float32Array.from({ length: n }, () => (next() / 2 ** 32) * 2 - 1);
  const quant = (rows: number, cols: number): QuantTensor => {
    const bytes = shape.kind === 'q4' ? (rows * cols) / 2 : rows * cols;
    return {
      kind: shape.kind,
      rows,
      cols,
      groupSize: shape.groupSize,
      data: Uint8Array.from({ length: bytes }, () => next() & 0xff),
      scales: Uint16Array.from({ length: (rows * cols) / shape.groupSize }, () => next() & 0x7bff),
    };
  };
  const { dim, hiddenDim } = shape;
  const kv = kvDim(config);
  const layers: QuantLayer[] = Array.from({ length: shape.nLayers }, () => ({
    rmsAtt: f32(dim),
    wq: quant(dim, dim),
    wk: quant(kv, dim),
    wv: quant(kv, dim),
    wo: quant(dim, dim),
    rmsFfn: f32(dim),
    w1: quant(hiddenDim, dim),
    w2: quant(dim, hiddenDim),
    w3: quant(hiddenDim, dim),
  }));
  const tokenEmbedding = quant(shape.vocabSize, dim);
  const half = headSize(config) / 2;
  return {
    config,
    kind: shape.kind,
    groupSize: shape.groupSize,
    fingerprint: Uint8Array.from({ length: 32 }, () => next() & 0xff),
    tokenEmbedding,
    layers,
    rmsFinal: f32(dim),
    wcls: shape.sharedClassifier ? tokenEmbedding : quant(shape.vocabSize, dim),
    rope: { cos: f32(shape.seqLen * half), sin: f32(shape.seqLen * half) },
  };
}
