/**
 * Where a build may write: the partition table at 0x8000 (ESP-IDF's binary format, 32-byte entries,
 * an MD5 entry, 0xFF after) and, for every other region, inside the partition it names (or the one its
 * offset falls in). Regions never overlap and never pass the end of the flash.
 */
import { TinypipeError } from '@tinypipe/protocol';

export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_BYTES = 0xc00;
const ENTRY_MAGIC = 0xaa50;
const MD5_MAGIC = 0xebeb;

export interface Partition {
  name: string;
  offset: number;
  size: number;
}

export interface CheckedRegion {
  name: string;
  offset: number;
  bytes: Uint8Array;
  /** The partition the manifest says this region belongs to (any partition containing it when absent). */
  partition?: string | undefined;
}

const bad = (message: string, details: Record<string, unknown>) =>
  new TinypipeError('BAD_OFFSET', `${message}: rebuild with tinypipe build`, { details });

/** The partitions of an ESP-IDF binary partition table; undefined when `bytes` is not one. */
export function parsePartitionTable(bytes: Uint8Array): Partition[] | undefined {
  if (bytes.length > PARTITION_TABLE_BYTES) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const parts: Partition[] = [];
  for (let at = 0; at + 32 <= bytes.length; at += 32) {
    const magic = view.getUint16(at, true);
    if (magic === MD5_MAGIC) return parts;
    if (magic !== ENTRY_MAGIC) return undefined;
    const raw = bytes.subarray(at + 12, at + 28);
    const end = raw.indexOf(0);
    const name = String.fromCharCode(...raw.subarray(0, end < 0 ? 16 : end));
    parts.push({ name, offset: view.getUint32(at + 4, true), size: view.getUint32(at + 8, true) });
  }
  return undefined;
}

/**
 * Checks a board's regions: the partition table is `partition-table.bin` at 0x8000 and parses; every
 * other region lies inside its partition; no two regions overlap; nothing passes `flashBytes`.
 *
 * @throws TinypipeError BAD_OFFSET
 */
export function checkRegions(folder: string, regions: readonly CheckedRegion[], flashBytes: number): void {
  const table = regions.find((r) => r.offset === PARTITION_TABLE_OFFSET);
  const partitions = table && parsePartitionTable(table.bytes);
  if (!table || !partitions)
    throw bad(`${folder}: no partition table at 0x8000 to check the other regions against`, { folder });
  const sorted = [...regions].sort((a, b) => a.offset - b.offset);
  for (const [i, r] of sorted.entries()) {
    const end = r.offset + r.bytes.length;
    if (end > flashBytes)
      throw bad(
        `${folder}/${r.name}: [0x${r.offset.toString(16)}, 0x${end.toString(16)}) passes the end of the ${flashBytes}-byte flash`,
        {
          name: r.name,
          offset: r.offset,
        },
      );
    const next = sorted[i + 1];
    if (next && next.offset < end)
      throw bad(`${folder}: ${r.name} and ${next.name} overlap at 0x${next.offset.toString(16)}`, {
        name: next.name,
        offset: next.offset,
      });
    if (r === table) continue;
    const home = partitions.find((p) =>
      r.partition !== undefined
        ? p.name === r.partition
        : p.offset <= r.offset && r.offset < p.offset + p.size,
    );
    if (!home || r.offset < home.offset || end > home.offset + home.size)
      throw bad(
        `${folder}/${r.name}: [0x${r.offset.toString(16)}, 0x${end.toString(16)}) is not inside ${
          home
            ? `partition "${home.name}" [0x${home.offset.toString(16)}, 0x${(home.offset + home.size).toString(16)})`
            : `any partition${r.partition ? ` named "${r.partition}"` : ''}`
        }`,
        { name: r.name, offset: r.offset, partition: r.partition ?? null },
      );
  }
}
