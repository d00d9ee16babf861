/**
 * KV-format fixtures of the firmware tests: an image of a given KV format (docs/image-format.md §3
 * `kv_format`), and the TS reference run — the unsplit QuantEngine storing its KV cache in that format — whose
 * tokens and per-layer hashes the C boards must equal.
 */
import {
  argmax,
  buildImage,
  hashHex,
  QuantEngine,
  type QuantizedModel,
  type StageSelection,
} from '@tinypipe/core';
import type { KvFormat } from '@tinypipe/protocol';

/** The KV formats the C firmware stores other than as computed. */
export const COMPACT_KV: readonly KvFormat[] = ['fp16', 'int8'];

/** The image of `selection` with its KV cache in `kv`: @tinypipe/core's writer (image version 3, `kv_format`). */
export function imageWithKv(qm: QuantizedModel, selection: StageSelection, kv: KvFormat): Uint8Array {
  return buildImage(qm, selection, { kv });
}

/** The unsplit TS engine with its KV cache in `kv` (layer hashes on). */
export function engineWith(qm: QuantizedModel, kv: KvFormat): QuantEngine {
  return QuantEngine.fromModel(qm, { layerHashes: true, kv });
}

/** Greedy decoding from BOS on the unsplit TS engine: per position "pos token hash…" (rv32's line format). */
export function greedyLines(qm: QuantizedModel, kv: KvFormat, steps: number): string[] {
  const engine = engineWith(qm, kv);
  const lines: string[] = [];
  let token = 1;
  for (let pos = 0; pos < steps; pos++) {
    token = argmax(engine.forward(token, pos));
    lines.push([pos, token, ...engine.lastLayerHashes().map(hashHex)].join(' '));
  }
  return lines;
}
