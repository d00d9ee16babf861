/**
 * The per-layer activation hash: FNV-1a 32-bit over the little-endian bytes of the fp32 residual stream
 * (docs/numerics.md §9). Cheap on a microcontroller, and any single-bit difference changes it.
 */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a 32 of `bytes`, continuing from `hash` (default: the FNV offset basis). */
export function fnv1a32(bytes: Uint8Array, hash = FNV_OFFSET): number {
  let h = hash;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, FNV_PRIME);
  return h >>> 0;
}

/** FNV-1a 32 of the binary32 values of `x`, byte by byte in little-endian order. */
export function hashActivations(x: Float32Array): number {
  return fnv1a32(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
}

/** A hash as 8 lowercase hex digits. */
export function hashHex(h: number): string {
  return (h >>> 0).toString(16).padStart(8, '0');
}
