/**
 * zlib compression for FLASH_DEFL_DATA that also says how many bytes each compressed block can inflate
 * to — the ROM writes them before answering the block, so its timeout scales with them (esptool runs
 * each block through a decompressor for the same figure). The data is compressed in 64 KiB pieces with a
 * sync flush after each (+~1.5 % bytes): everything before a flush point decodes by itself, so the bytes a
 * compressed range [a, b) can complete are at most those between the flush points around it.
 */
import { Zlib } from 'fflate';

const PIECE = 0x10000;

export interface Compressed {
  /** One zlib stream (what FLASH_DEFL_DATA blocks carry, in order). */
  packed: Uint8Array;
  /** Flush points: compressed bytes so far → uncompressed bytes they decode to completely. */
  marks: { packed: number; bytes: number }[];
}

export function compress(bytes: Uint8Array): Compressed {
  const parts: Uint8Array[] = [];
  let length = 0;
  const z = new Zlib({ level: 9 }, (chunk) => {
    parts.push(chunk);
    length += chunk.length;
  });
  const marks: Compressed['marks'] = [];
  for (let at = 0; at < bytes.length; at += PIECE) {
    const end = Math.min(bytes.length, at + PIECE);
    z.push(bytes.subarray(at, end), false);
    z.flush(true);
    marks.push({ packed: length, bytes: end });
  }
  z.push(new Uint8Array(0), true);
  const packed = new Uint8Array(length);
  let o = 0;
  for (const p of parts) {
    packed.set(p, o);
    o += p.length;
  }
  marks.push({ packed: length, bytes: bytes.length });
  return { packed, marks };
}

/** Upper bound of the uncompressed bytes the compressed range [start, end) completes. */
export function inflatedBound(c: Compressed, start: number, end: number): number {
  let before = 0;
  for (const m of c.marks) if (m.packed <= start) before = Math.max(before, m.bytes);
  const after = c.marks.find((m) => m.packed >= end)?.bytes ?? c.marks.at(-1)!.bytes;
  return Math.max(0, after - before);
}
