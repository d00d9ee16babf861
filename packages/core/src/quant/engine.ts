/**
 * `QuantEngine`: stages composed into a whole model on the host — the same computation a pipeline of
 * boards performs, so a split run can be checked against the unsplit one bit for bit.
 */
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';
import type { LogitsEngine } from '../engine/fp32-engine.js';
import type { KernelChoice } from '../kernels/wasm.js';
import { sliceStageWeights } from './slice.js';
import { QuantStage } from './stage.js';
import type { QuantizedModel, StageWeights } from './types.js';

export interface QuantEngineOptions {
  /** Record the per-layer activation hashes of every forward (see `lastLayerHashes`). */
  layerHashes?: boolean;
  /**
   * `'wasm'` (default where WebAssembly SIMD runs): the stages' quantized matmuls and attention in
   * WebAssembly SIMD, bit-identical to `'js'`, the reference (packages/core/README.md).
   */
  kernels?: KernelChoice;
  /**
   * Run a few forward passes at creation (default true) so the first tokens do not pay for the JIT
   * tiering up; the stages' KV caches are cleared afterwards, so results are unchanged.
   */
  warmUp?: boolean;
  /**
   * The KV cache format of every stage (docs/numerics.md §6b). Default: the stages' weights' `kv`
   * (images), else `'fp32'`.
   */
  kv?: KvFormat;
}

export interface SplitOptions extends QuantEngineOptions {
  /** Layers per stage, e.g. [2, 3]; sums to n_layers. Default: one stage with every layer. */
  split?: readonly number[];
  /**
   * Split the classifier by vocabulary rows over the last `classifierSlices` stages (default 1: the
   * last stage holds all of it).
   */
  classifierSlices?: number;
}

function invalid(message: string): TinypipeError {
  return new TinypipeError('INVALID_ARGUMENT', message);
}

/** The stage selections of a split: contiguous layer ranges, the embedding first, classifier slices last. */
export function splitSelections(
  config: ModelConfig,
  split: readonly number[] = [config.nLayers],
  classifierSlices = 1,
): { layers: [number, number]; embedding: boolean; classifier: false | [number, number] }[] {
  if (split.length === 0 || split.some((n) => !Number.isInteger(n) || n < 0)) {
    throw invalid(`split must list non-negative layer counts, got [${split.join(', ')}]`);
  }
  const total = split.reduce((a, b) => a + b, 0);
  if (total !== config.nLayers) {
    throw invalid(`split [${split.join(', ')}] covers ${total} layers; the model has ${config.nLayers}`);
  }
  if (!Number.isInteger(classifierSlices) || classifierSlices < 1 || classifierSlices > split.length) {
    throw invalid(
      `classifierSlices must be between 1 and the number of stages (${split.length}), got ${classifierSlices}`,
    );
  }
  const V = config.vocabSize;
  let from = 0;
  return split.map((n, i) => {
    const layers: [number, number] = [from, from + n];
    from += n;
    const slice = i - (split.length - classifierSlices); // index among the classifier stages
    const classifier: false | [number, number] =
      slice < 0
        ? false
        : [Math.floor((slice * V) / classifierSlices), Math.floor(((slice + 1) * V) / classifierSlices)];
    return { layers, embedding: i === 0, classifier };
  });
}

export class QuantEngine implements LogitsEngine {
  readonly config: ModelConfig;
  readonly stages: readonly QuantStage[];
  readonly #recordHashes: boolean;
  #hashes: number[] = [];
  readonly #x: Float32Array; // (dim) residual stream
  readonly #logits: Float32Array; // (vocab_size)

  /** Builds the stages of `split` from a quantized model (zero-copy slices). */
  static fromModel(qm: QuantizedModel, options: SplitOptions = {}): QuantEngine {
    const selections = splitSelections(qm.config, options.split, options.classifierSlices);
    return new QuantEngine(
      selections.map((s) => sliceStageWeights(qm, s)),
      options,
    );
  }

  /**
   * @param stages in pipeline order: contiguous layer ranges covering the model, the first holding the
   *   embedding, classifier slices covering the vocabulary in order
   */
  constructor(stages: readonly StageWeights[], options: QuantEngineOptions = {}) {
    if (stages.length === 0) throw invalid('a QuantEngine needs at least one stage');
    const config = stages[0]!.config;
    let next = 0;
    let covered = 0;
    for (const [i, s] of stages.entries()) {
      if (s.layerRange[0] !== next) {
        throw invalid(
          `stage ${i} starts at layer ${s.layerRange[0]}, expected ${next} (stages must be contiguous)`,
        );
      }
      next = s.layerRange[1];
      if (i === 0 && !s.embedding) throw invalid('the first stage must hold the embedding');
      if (s.classifier) {
        if (s.classifier.vocab[0] !== covered) {
          throw invalid(
            `stage ${i}'s classifier starts at row ${s.classifier.vocab[0]}, expected ${covered}`,
          );
        }
        covered = s.classifier.vocab[1];
      }
      if (
        s.fingerprint.length !== stages[0]!.fingerprint.length ||
        s.fingerprint.some((b, j) => b !== stages[0]!.fingerprint[j])
      ) {
        throw new TinypipeError(
          'IMAGE_MISMATCH',
          `stage ${i} belongs to a different model (fingerprint differs)`,
        );
      }
    }
    if (next !== config.nLayers)
      throw invalid(`the stages cover layers [0, ${next}); the model has ${config.nLayers}`);
    if (covered !== config.vocabSize)
      throw invalid(`the classifier slices cover [0, ${covered}); the vocabulary has ${config.vocabSize}`);
    this.config = config;
    this.stages = stages.map((s) => new QuantStage(s, { kernels: options.kernels, kv: options.kv }));
    const formats = new Set(this.stages.map((s) => s.kv));
    if (formats.size > 1)
      throw new TinypipeError(
        'IMAGE_MISMATCH',
        `the stages store different KV cache formats (${this.stages.map((s) => s.kv).join(', ')}): build every image of a model with one format`,
      );
    this.#recordHashes = options.layerHashes === true;
    this.#x = new Float32Array(config.dim);
    this.#logits = new Float32Array(config.vocabSize);
    if (options.warmUp !== false) {
      const c = config;
      const kv = (c.dim * c.nKvHeads) / c.nHeads;
      const macs =
        c.nLayers * (2 * c.dim * c.dim + 2 * kv * c.dim + 3 * c.dim * c.hiddenDim) + c.vocabSize * c.dim;
      const steps = Math.max(1, Math.min(16, c.seqLen, Math.floor(1e8 / macs)));
      for (let pos = 0; pos < steps; pos++) this.forward((pos * 7 + 1) % c.vocabSize, pos);
      for (const s of this.stages) s.reset();
      this.#x.fill(0);
      this.#logits.fill(0);
      this.#hashes = [];
    }
  }

  /** The KV cache format of the stages (docs/numerics.md §6b). */
  get kv(): KvFormat {
    return this.stages[0]!.kv;
  }

  /** The kernels the stages run: `'wasm'`, `'js'`, or `'mixed'` if some stage fell back. */
  get kernels(): KernelChoice | 'mixed' {
    const k = new Set(this.stages.map((s) => s.kernels));
    return k.size === 1 ? this.stages[0]!.kernels : 'mixed';
  }

  forward(token: number, pos: number): Float32Array {
    const x = this.#x;
    const hashes: number[] | undefined = this.#recordHashes ? [] : undefined;
    this.stages[0]!.embed(token, x);
    for (const stage of this.stages) stage.forward(x, pos, hashes);
    for (const stage of this.stages) {
      if (stage.vocab) this.#logits.set(stage.classify(x), stage.vocab[0]);
    }
    if (hashes) this.#hashes = hashes;
    return this.#logits;
  }

  /** FNV-1a hashes of the residual stream after each layer of the last `forward` (with `layerHashes`). */
  lastLayerHashes(): readonly number[] {
    if (!this.#recordHashes)
      throw invalid('create the engine with { layerHashes: true } to record layer hashes');
    return this.#hashes;
  }
}
