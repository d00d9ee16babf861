/**
 * `QuantStage`: what one board runs — a contiguous range of layers on the residual stream, with its own
 * KV cache, optionally the embedding and a (slice of the) classifier. Follows docs/numerics.md exactly;
 * the firmware's stage runner is the same recipe in C.
 */
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import { headSize, kvDim, type ModelConfig } from '../checkpoint/types.js';
import { checkStep, checkToken } from '../engine/checks.js';
import { rmsnorm } from '../engine/fp32-engine.js';
import { attentionWasm, keyCacheLength, seqBlocks } from '../kernels/attention.js';
import { cols4, interleaveQuant } from '../kernels/layout.js';
import { attention, rope } from '../kernels/reference.js';
import { type KernelChoice, KernelMemoryPlan, resolveKernels, type WasmKernels } from '../kernels/wasm.js';
import { expf32 } from '../numerics/exp.js';
import { hashActivations } from '../numerics/hash.js';
import {
  checkFinite,
  dequantizeRow,
  type PreparedMatrix,
  prepareMatrix,
  type QuantizedVector,
  qmatmul,
  quantizeVector,
} from './kernels.js';
import { StageKvCache, stageKvFormat } from './kv-cache.js';
import type { StageWeights } from './types.js';

const f = Math.fround;

/** A prepared matrix and, on the wasm path, where its interleaved copy lives (byte offsets). */
interface StageMatrix extends PreparedMatrix {
  wPtr: number;
  sPtr: number;
}

interface PreparedLayer {
  rmsAtt: Float32Array;
  wq: StageMatrix;
  wk: StageMatrix;
  wv: StageMatrix;
  wo: StageMatrix;
  rmsFfn: Float32Array;
  w1: StageMatrix;
  w2: StageMatrix;
  w3: StageMatrix;
}

/** A quantized activation: ints and scales, plus its ints widened to int16 in wasm memory. */
interface StageVector extends QuantizedVector {
  x16: Int16Array | undefined;
}

export interface QuantStageOptions {
  /**
   * `'wasm'` (default where WebAssembly SIMD runs and the group size is a multiple of 4): quantized
   * matmuls and attention in WebAssembly SIMD, bit-identical to `'js'`, the reference.
   */
  kernels?: KernelChoice;
  /**
   * The KV cache format (docs/numerics.md §6b): keys and values are rounded through it before they
   * are stored. Default: the weights' `kv` (an image's `kv_format`), else `'fp32'`.
   */
  kv?: KvFormat;
}

const stageMatrix = (m: PreparedMatrix): StageMatrix => ({ ...m, wPtr: 0, sPtr: 0 });

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
  readonly vocab: readonly [number, number] | undefined;
  /** @deprecated use `vocab` (the same range; renamed in issue 18). */
  get vocabRange(): readonly [number, number] | undefined {
    return this.vocab;
  }
  readonly #layers: PreparedLayer[];
  readonly #embedding: PreparedMatrix | undefined;
  readonly #classifier: StageMatrix | undefined;
  /** The kernels this stage runs (`'js'` when wasm was asked for but cannot run here). */
  readonly kernels: KernelChoice;
  readonly #k: WasmKernels | undefined;
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
  readonly #xq: StageVector; // (dim) int8 + scales
  readonly #hq: StageVector; // (hidden_dim) int8 + scales
  readonly #logits: Float32Array; // (v1 - v0)
  readonly #cache: StageKvCache;
  /** The KV cache format this stage stores (docs/numerics.md §6b). */
  get kv(): KvFormat {
    return this.#cache.format;
  }

  constructor(stage: StageWeights, options: QuantStageOptions = {}) {
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
      wq: stageMatrix(prepareMatrix(l.wq)),
      wk: stageMatrix(prepareMatrix(l.wk)),
      wv: stageMatrix(prepareMatrix(l.wv)),
      wo: stageMatrix(prepareMatrix(l.wo)),
      rmsFfn: l.rmsFfn,
      w1: stageMatrix(prepareMatrix(l.w1)),
      w2: stageMatrix(prepareMatrix(l.w2)),
      w3: stageMatrix(prepareMatrix(l.w3)),
    }));
    this.#embedding = stage.embedding ? prepareMatrix(stage.embedding) : undefined;
    this.#classifier = stage.classifier ? stageMatrix(prepareMatrix(stage.classifier.wcls)) : undefined;
    this.#rmsFinal = stage.classifier?.rmsFinal;
    this.vocab = stage.classifier?.vocab;
    this.#cos = stage.rope?.cos;
    this.#sin = stage.rope?.sin;
    const g = stage.groupSize;
    const nLogits = this.vocab ? this.vocab[1] - this.vocab[0] : 0;
    const wasm =
      resolveKernels(options.kernels) === 'wasm' && g % 4 === 0 ? this.#planWasm(n, nLogits) : undefined;
    this.kernels = wasm ? 'wasm' : 'js';
    this.#k = wasm?.k;
    const buf = (len: number, at: number | undefined) =>
      wasm ? wasm.k.view(at!, len) : new Float32Array(len);
    const vec = (len: number, sAt: number | undefined, xAt: number | undefined): StageVector => ({
      q: new Int8Array(len),
      s: buf(Math.ceil(len / g), sAt),
      x16: wasm ? wasm.k.int16(xAt!, cols4(len)) : undefined,
    });
    this.#xb = buf(c.dim, wasm?.xb);
    this.#xb2 = buf(c.dim, wasm?.xb2);
    this.#q = buf(c.dim, wasm?.q);
    this.#hb = buf(c.hiddenDim, wasm?.hb);
    this.#hb2 = buf(c.hiddenDim, wasm?.hb2);
    this.#att = buf(wasm ? seqBlocks(c.seqLen) : c.seqLen, wasm?.att);
    this.#xq = vec(c.dim, wasm?.xs, wasm?.x16);
    this.#hq = vec(c.hiddenDim, wasm?.hs, wasm?.h16);
    this.#logits = buf(nLogits, wasm?.logits);
    this.#cache = new StageKvCache(c, n, stageKvFormat(options.kv, stage.kv), wasm);
  }

  /**
   * Sizes one wasm memory for this stage's interleaved weights, KV cache and run state, copies the
   * weights in, and returns the byte offsets; undefined when wasm cannot run here.
   */
  #planWasm(layers: number, nLogits: number) {
    const c = this.config;
    const kv = kvDim(c);
    const g = this.weights.groupSize;
    const plan = new KernelMemoryPlan();
    const mats: StageMatrix[] = this.#layers.flatMap((L) => [L.wq, L.wk, L.wv, L.wo, L.w1, L.w2, L.w3]);
    if (this.#classifier) mats.push(this.#classifier);
    for (const m of mats) {
      const blocks = Math.ceil(m.rows / 4);
      m.wPtr = plan.reserve(blocks * cols4(m.cols)); // bytes / 4
      m.sPtr = plan.reserve(blocks * m.groups * 4);
    }
    const at = {
      xb: plan.reserve(c.dim),
      xb2: plan.reserve(c.dim),
      q: plan.reserve(c.dim),
      hb: plan.reserve(c.hiddenDim),
      hb2: plan.reserve(c.hiddenDim),
      att: plan.reserve(seqBlocks(c.seqLen)),
      xs: plan.reserve(Math.ceil(c.dim / g)),
      x16: plan.reserve(cols4(c.dim) / 2),
      hs: plan.reserve(Math.ceil(c.hiddenDim / g)),
      h16: plan.reserve(cols4(c.hiddenDim) / 2),
      logits: plan.reserve(nLogits),
      kTmp: plan.reserve(kv),
      keyCache: plan.reserve(keyCacheLength(c, layers)),
      valueCache: plan.reserve(layers * c.seqLen * kv),
    };
    const k = plan.instantiate();
    if (!k) return undefined;
    const bytes = k.int8(0, k.memory.buffer.byteLength);
    for (const m of mats) interleaveQuant(bytes, m.wPtr, k.f32, m.sPtr / 4, m);
    return { k, ...at };
  }

  /** Quantizes x (n) into v (§3); on the wasm path also widens the ints into its int16 copy. */
  #quantize(x: Float32Array, n: number, v: StageVector): void {
    quantizeVector(x, n, this.weights.groupSize, v);
    v.x16?.set(v.q);
  }

  /** out = W @ v (§4) through the stage's kernels. */
  #qmatmul(out: Float32Array, v: StageVector, m: StageMatrix): void {
    if (this.#k) {
      this.#k.qmatmul(
        m.wPtr,
        m.sPtr,
        v.x16!.byteOffset,
        v.s.byteOffset,
        out.byteOffset,
        cols4(m.cols),
        m.groupSize,
        m.groups,
        m.rows,
      );
    } else qmatmul(out, v, m);
  }

  /** Clears the KV cache and run state, as after construction. */
  reset(): void {
    for (const a of [this.#xb, this.#xb2, this.#q, this.#hb, this.#hb2, this.#att, this.#logits]) a.fill(0);
    for (const v of [this.#xq, this.#hq]) {
      v.q.fill(0);
      v.s.fill(0);
      v.x16?.fill(0);
    }
    this.#cache.reset();
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
    this.#quantize(this.#xb, dim, this.#xq);
    this.#qmatmul(this.#logits, this.#xq, this.#classifier);
    checkFinite(this.#logits, this.#logits.length, 'the logits');
    return this.#logits;
  }

  #layer(x: Float32Array, pos: number, li: number): void {
    const { dim, hiddenDim } = this.config;
    const L = this.#layers[li]!;
    const xb = this.#xb;
    const q = this.#q;
    const xq = this.#xq;
    const cache = this.#cache;
    // (kv_dim) k and v at pos: the cache rows (k: scratch stored into key blocks on the wasm path)
    const { k, v } = cache.rows(li, pos);

    // attention: rmsnorm, quantize once, q/k/v projections
    rmsnorm(xb, x, L.rmsAtt, 0, dim);
    this.#quantize(xb, dim, xq);
    this.#qmatmul(q, xq, L.wq);
    this.#qmatmul(k, xq, L.wk);
    this.#qmatmul(v, xq, L.wv);

    // RoPE from the table (§7), k and v through the KV format (§6b), attention with the spec's softmax (§6)
    rope(q, k, this.config, this.#cos!, this.#sin!, pos * (headSize(this.config) / 2));
    cache.store(li, pos, k, v);
    if (this.#k)
      attentionWasm(this.#k, xb, q, cache.keys, cache.values, li, pos, this.config, this.#att, 'spec');
    else attention(xb, q, cache.keys, cache.values, cache.offset(li), pos, this.config, this.#att, softmaxQ);

    // output projection and residual
    this.#quantize(xb, dim, xq);
    this.#qmatmul(this.#xb2, xq, L.wo);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + this.#xb2[i]!);

    // feed-forward: rmsnorm, w1/w3, SwiGLU with the spec's exp, w2, residual
    const hb = this.#hb;
    const hb2 = this.#hb2;
    rmsnorm(xb, x, L.rmsFfn, 0, dim);
    this.#quantize(xb, dim, xq);
    this.#qmatmul(hb, xq, L.w1);
    this.#qmatmul(hb2, xq, L.w3);
    if (this.#k) this.#k.swigluSpec(hb.byteOffset, hb2.byteOffset, hiddenDim);
    else {
      for (let i = 0; i < hiddenDim; i++) {
        let val = hb[i]!;
        val = f(val * f(1 / f(1 + expf32(-val))));
        hb[i] = f(val * hb2[i]!);
      }
    }
    this.#quantize(hb, hiddenDim, this.#hq);
    this.#qmatmul(xb, this.#hq, L.w2);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + xb[i]!);
  }
}
