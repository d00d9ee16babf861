/**
 * KV-format fixtures of the firmware tests: an image of a given KV format (docs/image-format.md §3
 * `kv_format`), and the TS reference run — the unsplit QuantEngine storing its KV cache in that format — whose
 * tokens and per-layer hashes the C boards must equal.
 */
import { argmax, hashHex, QuantEngine, type QuantizedModel } from '@tinypipe/core';
import { crc32c, type KvFormat, kvFormatCode } from '@tinypipe/protocol';

/** The KV formats the C firmware stores other than as computed. */
export const COMPACT_KV: readonly KvFormat[] = ['fp16', 'int8'];

/**
 * `image` (a version-2 or -3 image from buildImage) as a version-3 image whose `kv_format` is `kv`: the
 * header's version and kv_format fields set and its CRC recomputed, the rest unchanged.
 */
export function withKv(image: Uint8Array, kv: KvFormat): Uint8Array {
  const out = image.slice();
  const dv = new DataView(out.buffer);
  dv.setUint32(0x04, 3, true);
  dv.setUint32(0x80, kvFormatCode(kv), true);
  const tableEnd = 256 + 64 * dv.getUint32(0x6c, true);
  dv.setUint32(0x0c, crc32c(out.subarray(0x10, tableEnd), crc32c(out.subarray(0, 0x0c))), true);
  return out;
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
