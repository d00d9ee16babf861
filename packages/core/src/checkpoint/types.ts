/**
 * The in-memory model, independent of the file format it came from.
 *
 * Shapes follow llama2.c's run.c (row-major, `out × in` for every matrix, so `W @ x` reads rows):
 *   head_size = dim / n_heads
 *   kv_dim    = dim * n_kv_heads / n_heads
 */

/** Hyper-parameters of a llama2.c model (the 7 header ints plus the classifier-sharing flag). */
export interface ModelConfig {
  /** Transformer width. */
  readonly dim: number;
  /** FFN hidden width. */
  readonly hiddenDim: number;
  readonly nLayers: number;
  /** Query heads. */
  readonly nHeads: number;
  /** Key/value heads (multi-query when < nHeads). */
  readonly nKvHeads: number;
  readonly vocabSize: number;
  /** Maximum sequence length (KV cache size). */
  readonly seqLen: number;
  /** True when the classifier reuses the token embedding table (llama2.c's `shared_weights`). */
  readonly sharedClassifier: boolean;
}

/**
 * fp32 weights, one flat array per tensor kind, layers stacked on the first axis.
 * Arrays may be zero-copy views into the bytes a checkpoint was read from.
 */
export interface ModelWeights {
  /** (vocab_size, dim) */
  readonly tokenEmbedding: Float32Array;
  /** (n_layers, dim) */
  readonly rmsAtt: Float32Array;
  /** (n_layers, dim, dim): query projection, rows are outputs (n_heads * head_size) */
  readonly wq: Float32Array;
  /** (n_layers, kv_dim, dim) */
  readonly wk: Float32Array;
  /** (n_layers, kv_dim, dim) */
  readonly wv: Float32Array;
  /** (n_layers, dim, dim): output projection */
  readonly wo: Float32Array;
  /** (n_layers, dim) */
  readonly rmsFfn: Float32Array;
  /** (n_layers, hidden_dim, dim): gate */
  readonly w1: Float32Array;
  /** (n_layers, dim, hidden_dim): down */
  readonly w2: Float32Array;
  /** (n_layers, hidden_dim, dim): up */
  readonly w3: Float32Array;
  /** (dim) */
  readonly rmsFinal: Float32Array;
  /** (vocab_size, dim): the same array as `tokenEmbedding` when the classifier is shared */
  readonly wcls: Float32Array;
}

/** Which llama2.c file format a checkpoint was read from or is written to. */
export type CheckpointVersion = 0 | 1 | 2;

export interface Checkpoint {
  readonly config: ModelConfig;
  readonly weights: ModelWeights;
  /** The source format. `groupSize` is set for v2 (Q8_0) checkpoints. */
  readonly source: { readonly version: CheckpointVersion; readonly groupSize?: number };
}

/** Derived sizes used everywhere. */
export function headSize(c: ModelConfig): number {
  return c.dim / c.nHeads;
}

export function kvDim(c: ModelConfig): number {
  return (c.dim * c.nKvHeads) / c.nHeads;
}

/** Number of fp32 values in each tensor of `ModelWeights` (wcls counts 0 when shared). */
export function tensorSizes(c: ModelConfig): Record<keyof ModelWeights, number> {
  const kv = kvDim(c);
  const L = c.nLayers;
  return {
    tokenEmbedding: c.vocabSize * c.dim,
    rmsAtt: L * c.dim,
    wq: L * c.dim * c.dim,
    wk: L * kv * c.dim,
    wv: L * kv * c.dim,
    wo: L * c.dim * c.dim,
    rmsFfn: L * c.dim,
    w1: L * c.hiddenDim * c.dim,
    w2: L * c.dim * c.hiddenDim,
    w3: L * c.hiddenDim * c.dim,
    rmsFinal: c.dim,
    wcls: c.sharedClassifier ? 0 : c.vocabSize * c.dim,
  };
}

/** Parameter count as llama2.c counts it (shared classifier counted once, RoPE tables excluded). */
export function parameterCount(c: ModelConfig): number {
  return Object.values(tensorSizes(c)).reduce((a, b) => a + b, 0);
}
