/**
 * KV-cache formats as the cost model counts them (docs/numerics.md §6b): what one layer stores per
 * position for K and V together, in each format, and where the embedding table may live.
 */
import { kvBytesPerPosition as kvBytes, kvDim, type ModelConfig } from '@tinypipe/core';
import type { KvFormat } from '@tinypipe/protocol';

export { KV_FORMATS, type KvFormat } from '@tinypipe/protocol';

/** Where the token-embedding table lives: on a board (board 0), or on the host, which embeds. */
export type EmbeddingPlacement = 'board' | 'host';

/**
 * Bytes one layer of model `c` stores per position, K and V together, in format `kv` (core's
 * `kvBytesPerPosition`): fp32 `8·kv_dim`, fp16 `4·kv_dim`, int8 `2·(kv_dim + 4·n_kv_heads)`.
 */
export function kvBytesPerPosition(c: ModelConfig, kv: KvFormat = 'fp32'): number {
  return kvBytes(kv, kvDim(c), c.nKvHeads);
}
