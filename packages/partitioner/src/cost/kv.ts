/**
 * KV-cache formats as the cost model counts them (docs/numerics.md §6b): what one layer stores per
 * position for K and V together, in each format, and where the embedding table may live.
 */
import type { ModelConfig } from '@tinypipe/core';

/** The KV-cache formats, most exact first (the order `--kv auto` tries them in). */
export const PLAN_KV_FORMATS = ['fp32', 'fp16', 'int8'] as const;

/** A KV-cache format: binary32, binary16, or int8 with one binary32 scale per (position, kv head). */
export type PlanKvFormat = (typeof PLAN_KV_FORMATS)[number];

/** Where the token-embedding table lives: on a board (board 0), or on the host, which embeds. */
export type EmbeddingPlacement = 'board' | 'host';

/** The KV-cache width in values: `dim · n_kv_heads / n_heads`. */
export function kvDim(c: ModelConfig): number {
  return (c.dim * c.nKvHeads) / c.nHeads;
}

/**
 * Bytes one layer stores per position, K and V together, in format `kv`: fp32 `8·kv_dim`, fp16
 * `4·kv_dim`, int8 `2·(kv_dim + 4·n_kv_heads)` (int8 values plus one binary32 scale per kv head).
 */
export function kvBytesPerPosition(c: ModelConfig, kv: PlanKvFormat = 'fp32'): number {
  const d = kvDim(c);
  if (kv === 'fp16') return 4 * d;
  if (kv === 'int8') return 2 * (d + 4 * c.nKvHeads);
  return 8 * d;
}
