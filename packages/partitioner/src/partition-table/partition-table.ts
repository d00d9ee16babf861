/**
 * ESP-IDF partition tables: the CSV people edit and the binary the bootloader reads at 0x8000.
 *
 * Binary (ESP-IDF `esp_partition_info_t`, little-endian), one 32-byte entry per partition:
 *   0   u16     magic 0xAA50
 *   2   u8      type      (0x00 app, 0x01 data)
 *   3   u8      subtype
 *   4   u32     offset
 *   8   u32     size
 *   12  u8[16]  name, NUL-padded
 *   28  u32     flags     (bit 0 encrypted, bit 1 readonly)
 * then an MD5 entry (0xEBEB, 14 × 0xFF, the MD5 of every entry before it), then 0xFF up to 0xC00 bytes.
 * Written here from that layout (ESP-IDF's gen_esp32part.py documents it); the MD5 is @noble/hashes'.
 */
import { md5 } from '@noble/hashes/legacy';
import { TinypipeError } from '@tinypipe/protocol';

export const PARTITION_TABLE_OFFSET = 0x8000;
export const PARTITION_TABLE_BYTES = 0xc00;
/** Where partitions may start: after the table's 4 KiB sector. */
export const FIRST_PARTITION_OFFSET = 0x9000;
export const MODEL_SUBTYPE = 0x40;

export interface PartitionEntry {
  name: string;
  type: 'app' | 'data';
  /** Subtype code (app: 0x00 factory, 0x10+ ota; data: 0x01 phy, 0x02 nvs, 0x40 the tinypipe model). */
  subtype: number;
  offset: number;
  size: number;
  readonly?: boolean;
}

const SUBTYPE_NAMES: Record<string, Record<number, string>> = {
  app: { 0: 'factory' },
  data: { 1: 'phy', 2: 'nvs' },
};
const hex = (n: number) => `0x${n.toString(16)}`;
const invalid = (message: string) => new TinypipeError('PARTITION_TABLE_INVALID', message);

/** Refuses names too long for 16 bytes, misalignment, overlaps, and partitions past the flash end. */
export function validatePartitions(entries: readonly PartitionEntry[], flashBytes: number): void {
  if (entries.length > PARTITION_TABLE_BYTES / 32 - 1)
    throw invalid(`${entries.length} partitions: at most 95 fit the table`);
  for (const e of entries) {
    if (!/^[\x20-\x7e]{1,15}$/.test(e.name))
      throw invalid(`partition name "${e.name}" must be 1–15 printable ASCII characters`);
    const align = e.type === 'app' ? 0x10000 : 0x1000;
    if (e.offset % align !== 0)
      throw invalid(
        `${e.name}: offset ${hex(e.offset)} is not aligned to ${hex(align)} (${e.type} partitions need it)`,
      );
    if (e.size <= 0 || e.size % 0x1000 !== 0)
      throw invalid(`${e.name}: size ${hex(e.size)} must be a positive multiple of 0x1000`);
    if (e.offset < FIRST_PARTITION_OFFSET)
      throw invalid(`${e.name}: offset ${hex(e.offset)} overlaps the bootloader or the table`);
    if (e.offset + e.size > flashBytes)
      throw invalid(
        `${e.name}: ends at ${hex(e.offset + e.size)}, past the ${flashBytes / 1048576} MiB flash`,
      );
    if (!Number.isInteger(e.subtype) || e.subtype < 0 || e.subtype > 0xfe)
      throw invalid(`${e.name}: subtype ${e.subtype} is not a byte`);
  }
  const sorted = [...entries].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1]!;
    const b = sorted[i]!;
    if (a.offset + a.size > b.offset)
      throw invalid(
        `${a.name} [${hex(a.offset)}, ${hex(a.offset + a.size)}) overlaps ${b.name} at ${hex(b.offset)}`,
      );
  }
  const names = new Set<string>();
  for (const e of entries) {
    if (names.has(e.name)) throw invalid(`two partitions are named "${e.name}"`);
    names.add(e.name);
  }
}

/** The binary table (0xC00 bytes) for offset 0x8000. */
export function partitionTableBinary(entries: readonly PartitionEntry[], flashBytes: number): Uint8Array {
  validatePartitions(entries, flashBytes);
  const out = new Uint8Array(PARTITION_TABLE_BYTES).fill(0xff);
  const v = new DataView(out.buffer);
  entries.forEach((e, i) => {
    const at = i * 32;
    v.setUint16(at, 0xaa50, true);
    v.setUint8(at + 2, e.type === 'app' ? 0x00 : 0x01);
    v.setUint8(at + 3, e.subtype);
    v.setUint32(at + 4, e.offset, true);
    v.setUint32(at + 8, e.size, true);
    out.fill(0, at + 12, at + 28);
    for (let k = 0; k < e.name.length; k++) out[at + 12 + k] = e.name.charCodeAt(k);
    v.setUint32(at + 28, e.readonly ? 2 : 0, true);
  });
  const md5At = entries.length * 32;
  v.setUint16(md5At, 0xebeb, true);
  out.set(md5(out.subarray(0, md5At)), md5At + 16);
  return out;
}

/** The same table as ESP-IDF CSV (`partitions.csv`). */
export function partitionsCsv(entries: readonly PartitionEntry[]): string {
  const lines = ['# Name, Type, SubType, Offset, Size, Flags', '# written by tinypipe build'];
  for (const e of entries) {
    const sub = SUBTYPE_NAMES[e.type]?.[e.subtype] ?? hex(e.subtype);
    lines.push(
      `${e.name}, ${e.type}, ${sub}, ${hex(e.offset)}, ${hex(e.size)}, ${e.readonly ? 'readonly' : ''}`.trimEnd(),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * A tinypipe board's layout (the seed's, ports/esp-idf/partitions.csv): NVS, PHY data, the factory app
 * up to 0x1F0000, then the model partition over the rest of the flash in whole 64 KiB pages.
 */
export function boardPartitions(flashBytes: number, modelOffset = 0x1f0000): PartitionEntry[] {
  const modelSize = Math.floor((flashBytes - modelOffset) / 0x10000) * 0x10000;
  return [
    { name: 'nvs', type: 'data', subtype: 0x02, offset: 0x9000, size: 0x6000 },
    { name: 'phy_init', type: 'data', subtype: 0x01, offset: 0xf000, size: 0x1000 },
    { name: 'factory', type: 'app', subtype: 0x00, offset: 0x10000, size: modelOffset - 0x10000 },
    { name: 'model', type: 'data', subtype: MODEL_SUBTYPE, offset: modelOffset, size: modelSize },
  ];
}
