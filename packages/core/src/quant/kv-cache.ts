/**
 * A stage's KV cache (docs/numerics.md §6 and §6b): an fp32 cache of the values its format reads back,
 * so the attention kernels (JS and wasm) are the same for every format and give the bits of a cache
 * that stores the compact form (the C firmware's).
 */
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import { headSize, kvDim, type ModelConfig } from '../checkpoint/types.js';
import { keyCacheLength, storeKey } from '../kernels/attention.js';
import type { WasmKernels } from '../kernels/wasm.js';
import { kvRoundTrip } from './kv-format.js';

/** Where the wasm path keeps the cache: the kernels and byte offsets in their memory. */
export interface WasmKvPlace {
  readonly k: WasmKernels;
  /** (kv_dim) k of the current position, stored into key blocks after RoPE */
  readonly kTmp: number;
  /** blocked keys (kernels/attention.ts `storeKey`) */
  readonly keyCache: number;
  /** (layers, seq_len, kv_dim) */
  readonly valueCache: number;
}

/**
 * The format a stage runs: the one asked for, else the weights' (an image's `kv_format`), else fp32.
 * INVALID_ARGUMENT when both are given and differ.
 */
export function stageKvFormat(asked: KvFormat | undefined, weights: KvFormat | undefined): KvFormat {
  const format = asked ?? weights ?? 'fp32';
  if (weights !== undefined && format !== weights)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `these weights are built for a ${weights} KV cache (the image's kv_format), not ${format}: run them with kv '${weights}' or rebuild the image`,
      { details: { expected: weights, actual: format } },
    );
  return format;
}

/** The keys and values of a stage's layers for one stream, in one format. */
export class StageKvCache {
  /** The format the keys and values are rounded through before they are stored. */
  readonly format: KvFormat;
  /** JS path: (layers, seq_len, kv_dim); wasm path: key blocks. */
  readonly keys: Float32Array;
  /** (layers, seq_len, kv_dim) */
  readonly values: Float32Array;
  readonly #config: ModelConfig;
  readonly #kTmp: Float32Array | undefined;
  readonly #round: ((x: Float32Array) => void) | undefined;

  /** An fp32 cache for `layers` layers: JS arrays, or views of the wasm memory at `wasm`. */
  constructor(config: ModelConfig, layers: number, format: KvFormat, wasm?: WasmKvPlace) {
    this.#config = config;
    this.format = format;
    const kv = kvDim(config);
    const n = layers * config.seqLen * kv;
    this.keys = wasm ? wasm.k.view(wasm.keyCache, keyCacheLength(config, layers)) : new Float32Array(n);
    this.values = wasm ? wasm.k.view(wasm.valueCache, n) : new Float32Array(n);
    this.#kTmp = wasm?.k.view(wasm.kTmp, kv);
    this.#round = kvRoundTrip(format, kvDim(config), headSize(config));
  }

  /**
   * Where the projections write k and v of layer `li` (of the stage) at `pos`: the cache rows, or (wasm)
   * a scratch k that `store` puts into key blocks. Call `store` once RoPE has rotated k.
   */
  rows(li: number, pos: number): { k: Float32Array; v: Float32Array } {
    const kv = kvDim(this.#config);
    const at = this.offset(li) + pos * kv;
    return {
      k: this.#kTmp ?? this.keys.subarray(at, at + kv),
      v: this.values.subarray(at, at + kv),
    };
  }

  /** Where layer `li` (of the stage) starts in `values` (and in `keys` on the JS path). */
  offset(li: number): number {
    return li * this.#config.seqLen * kvDim(this.#config);
  }

  /** Rounds k and v in place to what the format reads back (§6b) and stores k (wasm: into key blocks). */
  store(li: number, pos: number, k: Float32Array, v: Float32Array): void {
    if (this.#round) {
      this.#round(k);
      this.#round(v);
    }
    if (this.#kTmp) storeKey(this.keys, k, this.#config, li, pos);
  }

  /** Clears every position. */
  reset(): void {
    this.#kTmp?.fill(0);
    this.keys.fill(0);
    this.values.fill(0);
  }
}
