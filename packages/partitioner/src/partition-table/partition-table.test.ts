import { createHash } from 'node:crypto';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import {
  boardPartitions,
  PARTITION_TABLE_BYTES,
  type PartitionEntry,
  partitionsCsv,
  partitionTableBinary,
  validatePartitions,
} from './partition-table.js';

const MiB = 1024 * 1024;

// The seed's 16 MiB layout (ports/esp-idf/partitions.csv), each entry written out by hand from the
// documented layout: 50 aa | type | subtype | offset LE | size LE | name, NUL-padded to 16 | flags LE
const seed: PartitionEntry[] = [
  { name: 'nvs', type: 'data', subtype: 0x02, offset: 0x9000, size: 0x6000 },
  { name: 'phy_init', type: 'data', subtype: 0x01, offset: 0xf000, size: 0x1000 },
  { name: 'factory', type: 'app', subtype: 0x00, offset: 0x10000, size: 0x1e0000 },
  { name: 'model', type: 'data', subtype: 0x40, offset: 0x1f0000, size: 0xe00000 },
];
const byHand = [
  '50aa0102' + '00900000' + '00600000' + '6e767300000000000000000000000000' + '00000000',
  '50aa0101' + '00f00000' + '00100000' + '7068795f696e69740000000000000000' + '00000000',
  '50aa0000' + '00000100' + '00001e00' + '666163746f7279000000000000000000' + '00000000',
  '50aa0140' + '00001f00' + '0000e000' + '6d6f64656c0000000000000000000000' + '00000000',
].join('');

describe('partition table binary', () => {
  it('matches the documented layout byte for byte, with the MD5 entry and 0xFF padding', () => {
    const bin = partitionTableBinary(seed, 16 * MiB);
    expect(bin.length).toBe(PARTITION_TABLE_BYTES);
    const entries = Buffer.from(byHand, 'hex');
    expect(Buffer.from(bin.subarray(0, 128)).toString('hex')).toBe(byHand);
    const md5 = createHash('md5').update(entries).digest('hex');
    expect(Buffer.from(bin.subarray(128, 160)).toString('hex')).toBe(`ebeb${'ff'.repeat(14)}${md5}`);
    expect(bin.subarray(160).every((b) => b === 0xff)).toBe(true);
  });

  it('writes the same table as ESP-IDF CSV', () => {
    expect(partitionsCsv(seed)).toBe(
      [
        '# Name, Type, SubType, Offset, Size, Flags',
        '# written by tinypipe build',
        'nvs, data, nvs, 0x9000, 0x6000,',
        'phy_init, data, phy, 0xf000, 0x1000,',
        'factory, app, factory, 0x10000, 0x1e0000,',
        'model, data, 0x40, 0x1f0000, 0xe00000,',
        '',
      ].join('\n'),
    );
  });

  it('gives a board the seed layout with the model partition over the rest of its flash', () => {
    const t = boardPartitions(16 * MiB);
    expect(t.slice(0, 3)).toEqual(seed.slice(0, 3));
    expect(t[3]).toMatchObject({ name: 'model', subtype: 0x40, offset: 0x1f0000, size: 16 * MiB - 0x1f0000 });
    expect(() => validatePartitions(boardPartitions(8 * MiB), 8 * MiB)).not.toThrow();
  });

  it('refuses overlapping, misaligned, oversized and badly named partitions', async () => {
    const bad = (edit: Partial<PartitionEntry>, at = 3) =>
      seed.map((e, i) => (i === at ? { ...e, ...edit } : e));
    const cases: [PartitionEntry[], RegExp][] = [
      [bad({ offset: 0x1e0000 }), /factory .* overlaps model/],
      [bad({ offset: 0x1f0800 }), /not aligned to 0x1000/],
      [bad({ offset: 0x18000 }, 2), /not aligned to 0x10000 \(app partitions need it\)/],
      [bad({ size: 0x1000000 }), /past the 16 MiB flash/],
      [bad({ size: 0x123 }), /multiple of 0x1000/],
      [bad({ name: 'a_name_longer_than_15' }), /1–15 printable ASCII/],
      [bad({ offset: 0x8000 }, 0), /overlaps the bootloader or the table/],
      [bad({ name: 'nvs' }), /two partitions are named "nvs"/],
    ];
    for (const [entries, message] of cases) {
      expect(() => partitionTableBinary(entries, 16 * MiB)).toThrow(message);
      expect(await errorCodeOf(() => partitionTableBinary(entries, 16 * MiB))).toBe(
        'PARTITION_TABLE_INVALID',
      );
    }
  });
});
