/**
 * The fp32 reference engine: llama2.c's run.c `forward`, operation for operation, in binary32.
 *
 * Every + - * / is rounded to binary32 with Math.fround, so results equal run.c built by gcc without
 * FMA contraction (x86-64 default). Rounding a double result of two binary32 operands to binary32 is
 * exact for + - * / and sqrt (the double has more than 2·24+2 bits), so this is true binary32 math.
 * powf/cosf/sinf/expf come from Math.pow/cos/sin/exp rounded to binary32; glibc may differ by one ulp
 * on rare inputs, which the goldens' 1e-5 tolerance on logits absorbs.
 */

import { TinypipeError } from '@tinypipe/protocol';
import {
  type Checkpoint,
  headSize,
  kvDim,
  type ModelConfig,
  type ModelWeights,
} from '../checkpoint/types.js';
import { attentionWasm, keyCacheLength, seqBlocks, storeKey } from '../kernels/attention.js';
import { interleave16, interleavedLength } from '../kernels/layout.js';
import { attention, matmul, rope, softmax } from '../kernels/reference.js';
import { type KernelChoice, KernelMemoryPlan, resolveKernels, type WasmKernels } from '../kernels/wasm.js';
import { checkStep, checkToken } from './checks.js';

const f = Math.fround;
const EPS = f(1e-5);

// the JS reference kernels live beside the wasm ones (src/kernels/); exported here as before
export { matmul, softmax };

/** Anything that turns (token, position) into logits: the fp32 engine, the quantized one, a pipeline. */
export interface LogitsEngine {
  readonly config: ModelConfig;
  /** Logits (vocab_size) for `token` at `pos`; valid until the next call. */
  forward(token: number, pos: number): Float32Array;
}

/** run.c `rmsnorm`: o = weight ⊙ (x / sqrt(mean(x²) + 1e-5)). `o` may alias `x`. */
export function rmsnorm(
  o: Float32Array,
  x: Float32Array,
  weight: Float32Array,
  wOff: number,
  size: number,
): void {
  let ss = 0;
  for (let j = 0; j < size; j++) ss = f(ss + f(x[j]! * x[j]!));
  ss = f(ss / size);
  ss = f(ss + EPS);
  ss = f(1 / f(Math.sqrt(ss)));
  for (let j = 0; j < size; j++) o[j] = f(weight[wOff + j]! * f(ss * x[j]!));
}

/** binary32 libm exp, as run.c's expf (see the module note). */
const expF32 = (v: number) => f(Math.exp(v));

export interface Fp32EngineOptions {
  /**
   * `'wasm'` (default where WebAssembly SIMD runs): matmuls, attention and softmax's division in
   * WebAssembly SIMD, bit-identical to `'js'`, the reference (see packages/core/README.md). The wasm
   * path keeps a second, interleaved copy of the weights in its memory.
   */
  kernels?: KernelChoice;
  /**
   * Run a few forward passes at creation (default true) so the first tokens do not pay for the JIT
   * tiering up the JS and wasm code; the KV cache and state are cleared afterwards, so results are
   * unchanged. Up to 32 positions, fewer for larger models (about 2·10⁸ multiply-adds in all).
   */
  warmUp?: boolean;
}

/** A matrix (d, n) at `w[off …]`, and where its interleaved copy lives in wasm memory (bytes). */
interface Matrix {
  readonly w: Float32Array;
  readonly off: number;
  readonly n: number;
  readonly d: number;
  ptr: number;
}

interface LayerMatrices {
  wq: Matrix;
  wk: Matrix;
  wv: Matrix;
  wo: Matrix;
  w1: Matrix;
  w2: Matrix;
  w3: Matrix;
}

/**
 * The fp32 transformer with its KV cache and run state, allocated once. `forward(token, pos)` is exactly
 * `embed` + `forwardLayers(0, n_layers)` + `classify`; the pieces exist so a model can be split.
 */
export class Fp32Engine implements LogitsEngine {
  readonly config: ModelConfig;
  readonly #w: ModelWeights;
  readonly #headSize: number;
  readonly #kvDim: number;
  /** (dim) residual stream used by forward() */
  readonly #x: Float32Array;
  /** (dim) */
  readonly #xb: Float32Array;
  /** (dim) */
  readonly #xb2: Float32Array;
  /** (hidden_dim) */
  readonly #hb: Float32Array;
  /** (hidden_dim) */
  readonly #hb2: Float32Array;
  /** (dim) */
  readonly #q: Float32Array;
  /** (seq_len) attention scores of one head */
  readonly #att: Float32Array;
  /** (vocab_size) */
  readonly #logits: Float32Array;
  /** (n_layers, seq_len, kv_dim) */
  readonly #keyCache: Float32Array;
  /** (n_layers, seq_len, kv_dim) */
  readonly #valueCache: Float32Array;
  /** (head_size / 2) RoPE cos and sin for the current position */
  readonly #cos: Float32Array;
  readonly #sin: Float32Array;
  /** The kernels this engine runs (`'js'` when wasm was asked for but is unsupported here). */
  readonly kernels: KernelChoice;
  /** wasm path: the kernels, (kv_dim) scratch for k before it is stored in blocks of 4 positions. */
  readonly #k: WasmKernels | undefined;
  readonly #kTmp: Float32Array | undefined;
  /** wasm path: seq_len rounded up to 4 (key blocks) */
  readonly #seq4: number;
  readonly #layers: LayerMatrices[];
  readonly #wcls: Matrix;

  constructor(checkpoint: Checkpoint, options: Fp32EngineOptions = {}) {
    const c = checkpoint.config;
    this.config = c;
    const w = checkpoint.weights;
    this.#w = w;
    this.#headSize = headSize(c);
    const kv = kvDim(c);
    this.#kvDim = kv;
    const { dim, hiddenDim: hid } = c;
    const mat = (m: Float32Array, off: number, n: number, d: number): Matrix => ({ w: m, off, n, d, ptr: 0 });
    this.#layers = [];
    for (let l = 0; l < c.nLayers; l++) {
      this.#layers.push({
        wq: mat(w.wq, l * dim * dim, dim, dim),
        wk: mat(w.wk, l * kv * dim, dim, kv),
        wv: mat(w.wv, l * kv * dim, dim, kv),
        wo: mat(w.wo, l * dim * dim, dim, dim),
        w1: mat(w.w1, l * hid * dim, dim, hid),
        w2: mat(w.w2, l * dim * hid, hid, dim),
        w3: mat(w.w3, l * hid * dim, dim, hid),
      });
    }
    this.#wcls = mat(w.wcls, 0, dim, c.vocabSize);
    this.#seq4 = seqBlocks(c.seqLen);
    this.#x = new Float32Array(dim);
    this.#cos = new Float32Array(this.#headSize / 2);
    this.#sin = new Float32Array(this.#headSize / 2);

    const kernels = resolveKernels(options.kernels) === 'wasm' ? this.#planWasm() : undefined;
    this.kernels = kernels ? 'wasm' : 'js';
    this.#k = kernels?.k;
    const buf = (n: number, at: number | undefined) =>
      kernels ? kernels.k.view(at!, n) : new Float32Array(n);
    this.#xb = buf(dim, kernels?.xb);
    this.#xb2 = buf(dim, kernels?.xb2);
    this.#hb = buf(hid, kernels?.hb);
    this.#hb2 = buf(hid, kernels?.hb2);
    this.#q = buf(dim, kernels?.q);
    this.#kTmp = kernels ? kernels.k.view(kernels.kTmp, kv) : undefined;
    this.#att = buf(kernels ? this.#seq4 : c.seqLen, kernels?.att);
    this.#logits = buf(c.vocabSize, kernels?.logits);
    this.#keyCache = kernels
      ? kernels.k.view(kernels.keyCache, keyCacheLength(c, c.nLayers))
      : new Float32Array(c.nLayers * c.seqLen * kv);
    this.#valueCache = buf(c.nLayers * c.seqLen * kv, kernels?.valueCache);
    if (options.warmUp !== false) this.#warmUp();
  }

  #warmUp(): void {
    const c = this.config;
    const kv = this.#kvDim;
    const macs =
      c.nLayers * (2 * c.dim * c.dim + 2 * kv * c.dim + 3 * c.dim * c.hiddenDim) + c.vocabSize * c.dim;
    const steps = Math.max(1, Math.min(32, c.seqLen, Math.floor(2e8 / macs)));
    for (let pos = 0; pos < steps; pos++) this.forward((pos * 7 + 1) % c.vocabSize, pos);
    for (const a of [this.#x, this.#xb, this.#xb2, this.#hb, this.#hb2, this.#q, this.#att, this.#logits])
      a.fill(0);
    this.#kTmp?.fill(0);
    this.#keyCache.fill(0);
    this.#valueCache.fill(0);
  }

  /**
   * Sizes one wasm memory for the interleaved weights, the KV cache and the run state, copies the
   * weights in, and returns the byte offsets; undefined when wasm cannot run here.
   */
  #planWasm() {
    const c = this.config;
    const kv = this.#kvDim;
    const plan = new KernelMemoryPlan();
    const mats = [...this.#layers.flatMap((L) => Object.values(L) as Matrix[]), this.#wcls];
    for (const m of mats) m.ptr = plan.reserve(interleavedLength(m.n, m.d));
    const at = {
      xb: plan.reserve(c.dim),
      xb2: plan.reserve(c.dim),
      hb: plan.reserve(c.hiddenDim),
      hb2: plan.reserve(c.hiddenDim),
      q: plan.reserve(c.dim),
      kTmp: plan.reserve(kv),
      att: plan.reserve(this.#seq4),
      logits: plan.reserve(c.vocabSize),
      keyCache: plan.reserve(keyCacheLength(c, c.nLayers)),
      valueCache: plan.reserve(c.nLayers * c.seqLen * kv),
    };
    const k = plan.instantiate();
    if (!k) return undefined;
    for (const m of mats) interleave16(k.f32, m.ptr / 4, m.w, m.off, m.n, m.d);
    return { k, ...at };
  }

  /** out (d) = W (d, n) @ x (n) through the engine's kernels. */
  #matmul(out: Float32Array, x: Float32Array, m: Matrix): void {
    if (this.#k) this.#k.matmul(m.ptr, x.byteOffset, out.byteOffset, m.n, m.d);
    else matmul(out, x, m.w, m.off, m.n, m.d);
  }

  forward(token: number, pos: number): Float32Array {
    this.embed(token, this.#x);
    this.forwardLayers(this.#x, pos, 0, this.config.nLayers);
    return this.classify(this.#x);
  }

  /** Copies the embedding row of `token` into `x` (dim). */
  embed(token: number, x: Float32Array = new Float32Array(this.config.dim)): Float32Array {
    const { dim } = this.config;
    checkToken(token, this.config);
    x.set(this.#w.tokenEmbedding.subarray(token * dim, (token + 1) * dim));
    return x;
  }

  /** Runs layers [from, to) on the residual stream `x` (dim) at position `pos`, in place. */
  forwardLayers(x: Float32Array, pos: number, from: number, to: number): void {
    const c = this.config;
    checkStep(x, pos, c);
    if (!Number.isInteger(from) || !Number.isInteger(to) || from < 0 || to > c.nLayers || from > to) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `layer range [${from}, ${to}) is not within [0, ${c.nLayers})`,
      );
    }
    if (x.length !== c.dim)
      throw new TinypipeError('INVALID_ARGUMENT', `x has ${x.length} values, dim is ${c.dim}`);
    this.#ropeTable(pos);
    for (let l = from; l < to; l++) this.#layer(x, pos, l);
  }

  /** Final rmsnorm and classifier on the residual stream `x` (left unchanged) → logits (vocab_size). */
  classify(x: Float32Array): Float32Array {
    rmsnorm(this.#xb, x, this.#w.rmsFinal, 0, this.config.dim);
    this.#matmul(this.#logits, this.#xb, this.#wcls);
    return this.#logits;
  }

  /** RoPE rotation for `pos`, one value per pair index within a head (run.c's freq/cosf/sinf). */
  #ropeTable(pos: number): void {
    const hs = this.#headSize;
    for (let i = 0; i < hs; i += 2) {
      const freq = f(1 / f(10000 ** f(i / hs)));
      const val = f(pos * freq);
      this.#cos[i / 2] = Math.cos(val);
      this.#sin[i / 2] = Math.sin(val);
    }
  }

  #layer(x: Float32Array, pos: number, l: number): void {
    const { dim, hiddenDim, seqLen } = this.config;
    const w = this.#w;
    const M = this.#layers[l]!;
    const kv = this.#kvDim;
    const xb = this.#xb;
    const q = this.#q;
    const kern = this.#k;
    const loff = l * seqLen * kv; // layer offset in the value cache (and the key cache of the JS path)
    // (kv_dim) k at pos: the cache row (JS), or scratch stored into key blocks after RoPE (wasm)
    const k = this.#kTmp ?? this.#keyCache.subarray(loff + pos * kv, loff + (pos + 1) * kv);
    const v = this.#valueCache.subarray(loff + pos * kv, loff + (pos + 1) * kv); // (kv_dim)

    // attention: rmsnorm, q/k/v projections (k and v straight into the cache)
    rmsnorm(xb, x, w.rmsAtt, l * dim, dim);
    this.#matmul(q, xb, M.wq);
    this.#matmul(k, xb, M.wk);
    this.#matmul(v, xb, M.wv);

    // RoPE, then multi-head attention over positions 0..pos
    rope(q, k, this.config, this.#cos, this.#sin, 0);
    if (kern) {
      storeKey(this.#keyCache, k, this.config, l, pos);
      attentionWasm(kern, xb, q, this.#keyCache, this.#valueCache, l, pos, this.config, this.#att, expF32);
    } else attention(xb, q, this.#keyCache, this.#valueCache, loff, pos, this.config, this.#att, softmax);

    // output projection and residual
    const xb2 = this.#xb2;
    this.#matmul(xb2, xb, M.wo);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + xb2[i]!);

    // feed-forward: rmsnorm, w1 and w3, SwiGLU, w2, residual
    const hb = this.#hb;
    const hb2 = this.#hb2;
    rmsnorm(xb, x, w.rmsFfn, l * dim, dim);
    this.#matmul(hb, xb, M.w1);
    this.#matmul(hb2, xb, M.w3);
    for (let i = 0; i < hiddenDim; i++) {
      let val = hb[i]!;
      val = f(val * f(1 / f(1 + f(Math.exp(-val)))));
      hb[i] = f(val * hb2[i]!);
    }
    this.#matmul(xb, hb, M.w2);
    for (let i = 0; i < dim; i++) x[i] = f(x[i]! + xb[i]!);
  }
}
