/**
 * `QuantStage`: what one board runs — a contiguous range of layers on the residual stream, with its own
 * KV cache, optionally the embedding and a (slice of the) classifier. Follows docs/numerics.md exactly;
 * the firmware's stage runner is the same recipe in C.
 */
import { headSize, kvDim, type ModelConfig } from '../checkpoint/types.js';
import { attention, rope } from '../engine/attention.js';
import { checkStep, checkToken } from '../engine/checks.js';
import { rmsnorm } from '../engine/fp32-engine.js';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { expf32 } from '../numerics/exp.js';
import { hashActivations } from '../numerics/hash.js';
import {
  checkFinite,
  dequantizeRow,
  type PreparedMatrix,
  prepareMatrix,
  type QuantizedVector,
  qmatmul,
  quantizedVector,
  quantizeVector,
} from './kernels.js';
import type { StageWeights } from './types.js';

const f = Math.fround;

interface PreparedLayer {
  rmsAtt: Float32Array;
  wq: PreparedMatrix;
  wk: PreparedMatrix;
  wv: PreparedMatrix;
  wo: PreparedMatrix;
  rmsFfn: Float32Array;
  w1: PreparedMatrix;
  w2: PreparedMatrix;
  w3: PreparedMatrix;
}

/** softmax (§6) over x[0..n) in place with the spec's exp. */
export function softmaxQ(x: Float32Array, n: number): void {
  let max = x[0]!;
  for (let i = 1; i < n; i++) if (x[i]! > max) max = x[i]!;
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = expf32(f(x[i]! - max));
    x[i] = e;
    sum = f(sum + e);
  }
  for (let i = 0; i < n; i++) x[i] = f(x[i]! / sum);
}

export class QuantStage {
  readonly config: ModelConfig;
  readonly weights: StageWeights;
  readonly layerRange: readonly [number, number];
  /** Classifier rows this stage produces, or undefined. */
  readonly vocabRange: readonly [number, number] | undefined;
  readonly #layers: PreparedLayer[];
  readonly #embedding: PreparedMatrix | undefined;
  readonly #classifier: PreparedMatrix | undefined;
  readonly #rmsFinal: Float32Array | undefined;
  readonly #cos: Float32Array | undefined;
  readonly #sin: Float32Array | undefined;
  // run state, allocated once: shapes in comments
  readonly #xb: Float32Array; // (dim)
  readonly #xb2: Float32Array; // (dim)
  readonly #q: Float32Array; // (dim)
  readonly #hb: Float32Array; // (hidden_dim)
  readonly #hb2: Float32Array; // (hidden_dim)
  readonly #att: Float32Array; // (seq_len)
  readonly #xq: QuantizedVector; // (dim) int8 + scales
  readonly #hq: QuantizedVector; // (hidden_dim) int8 + scales
  readonly #logits: Float32Array; // (v1 - v0)
  readonly #keyCache: Float32Array; // (layers in stage, seq_len, kv_dim)
  readonly #valueCache: Float32Array; // (layers in stage, seq_len, kv_dim)

  constructor(stage: StageWeights) {
    const c = stage.config;
    this.config = c;
    this.weights = stage;
    this.layerRange = stage.layerRange;
    const n = stage.layerRange[1] - stage.layerRange[0];
    if (stage.layers.length !== n) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `stage has ${stage.layers.length} layers but its range holds ${n}`,
      );
    }
    if (n > 0 && !stage.rope)
      throw new TinypipeError('INVALID_ARGUMENT', 'a stage with layers needs the RoPE table');
    this.#layers = stage.layers.map((l) => ({
      rmsAtt: l.rmsAtt,
      wq: prepareMatrix(l.wq),
      wk: prepareMatrix(l.wk),
      wv: prepareMatrix(l.wv),
      wo: prepareMatrix(l.wo),
      rmsFfn: l.rmsFfn,
      w1: prepareMatrix(l.w1),
      w2: prepareMatrix(l.w2),
      w3: prepareMatrix(l.w3),
    }));
    this.#embedding = stage.embedding ? prepareMatrix(stage.embedding) : undefined;
    this.#classifier = stage.classifier ? prepareMatrix(stage.classifier.wcls) : undefined;
    this.#rmsFinal = stage.classifier?.rmsFinal;
    this.vocabRange = stage.classifier?.vocabRange;
    this.#cos = stage.rope?.cos;
    this.#sin = stage.rope?.sin;
    const kv = kvDim(c);
    const g = stage.groupSize;
    this.#xb = new Float32Array(c.dim);
    this.#xb2 = new Float32Array(c.dim);
    this.#q = new Float32Array(c.dim);
    this.#hb = new Float32Array(c.hiddenDim);
    this.#hb2 = new Float32Array(c.hiddenDim);
    this.#att = new Float32Array(c.seqLen);
    this.#xq = quantizedVector(c.dim, g);
    this.#hq = quantizedVector(c.hiddenDim, g);
    this.#logits = new Float32Array(this.vocabRange ? this.vocabRange[1] - this.vocabRange[0] : 0);
    this.#keyCache = new Float32Array(n * c.seqLen * kv);
    this.#valueCache = new Float32Array(n * c.seqLen * kv);
  }

  get hasEmbedding(): boolean {
    return this.#embedding !== undefined;
  }

  /** The dequantized embedding row of `token` into `x` (dim). */
  embed(token: number, x: Float32Array = new Float32Array(this.config.dim)): Float32Array {
    if (!this.#embedding)
      throw new TinypipeError('INVALID_ARGUMENT', 'this stage does not hold the embedding');
    checkToken(token, this.config);
    dequantizeRow(this.#embedding, token, x);
    checkFinite(x, this.config.dim, 'the embedding row');
    return x;
  }

  /**
   * Runs this stage's layers on the residual stream `x` (dim) at `pos`, in place. With `hashes`, pushes
   * the FNV-1a hash of `x` after each layer (§9).
   */
  forward(x: Float32Array, pos: number, hashes?: number[]): void {
    const c = this.config;
    checkStep(x, pos, c);
    if (x.length !== c.dim)
      throw new TinypipeError('INVALID_ARGUMENT', `x has ${x.length} values, dim is ${c.dim}`);
    for (let i = 0; i < this.#layers.length; i++) {
      this.#layer(x, pos, i);
      hashes?.push(hashActivations(x));
    }
    checkFinite(x, c.dim, "the stage's output activation");
  }

  /** Final rmsnorm and this stage's classifier rows on `x` (unchanged) → logits (v1 − v0). */
  classify(x: Float32Array): Float32Array {
    if (!this.#classifier || !this.#rmsFinal)
      throw new TinypipeError('INVALID_ARGUMENT', 'this stage holds no classifier');
    const { dim } = this.config;
    rmsnorm(this.#xb, x, this.#rmsFinal, 0, dim);
    quantizeVector(this.#xb, dim, this.weights.groupSize, this.#xq);
    qmatmul(this.#logits, this.#xq, this.#classifier);
    checkFinite(this.#logits, this.#logits.length, 'the logits');
    return this.#logits;
  }

  #layer(x: Float32Array, pos: number, li: number): void {
    const { dim, hiddenDim, seqLen } = this.config;
    const L = this.#layers[li]!;
    const G = this.weights.groupSize;
    const kv = kvDim(this.config);
    const xb = this.#xb;
    const q = this.#q;
    const xq = this.#xq;
    const loff = li * seqLen * kv; // this layer in the KV cache
    const k = this.#keyCache.subarray(loff + pos * kv, loff + (pos + 1) * kv); // (kv_dim) row at pos
    const v = this.#valueCache.subarray(loff + pos * kv, loff + (pos + 1) * kv); // (kv_dim)

    // attention: rmsnorm, quantize once, q/k/v projections
    rmsnorm(xb, x, L.rmsAtt, 0, dim);
    quantizeVector(xb, dim, G, xq);
    qmatmul(q, xq, L.wq);
    qmatmul(k, xq, L.wk);
    qmatmul(v, xq, L.wv);

    // RoPE from the table (§7), attention in fp32 with the spec's softmax (§6)
    rope(q, k, this.config, this.#cos!, this.#sin!, pos * (headSize(this.config) / 2));
    attention(xb, q, this.#keyCache, this.#valueCache, loff, pos, this.config, this.#att, softmaxQ);

    // output projection and residual
    quantizeVector(xb, dim, G, xq);
    qmatmul(this.#xb2, xq, L.wo);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + this.#xb2[i]!);

    // feed-forward: rmsnorm, w1/w3, SwiGLU with the spec's exp, w2, residual
    const hb = this.#hb;
    const hb2 = this.#hb2;
    rmsnorm(xb, x, L.rmsFfn, 0, dim);
    quantizeVector(xb, dim, G, xq);
    qmatmul(hb, xq, L.w1);
    qmatmul(hb2, xq, L.w3);
    for (let i = 0; i < hiddenDim; i++) {
      let val = hb[i]!;
      val = f(val * f(1 / f(1 + expf32(-val))));
      hb[i] = f(val * hb2[i]!);
    }
    quantizeVector(hb, hiddenDim, G, this.#hq);
    qmatmul(xb, this.#hq, L.w2);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + xb[i]!);
  }
}
