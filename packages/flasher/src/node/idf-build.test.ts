import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readIdfBuild } from './idf-build.js';

const root = mkdtempSync(join(tmpdir(), 'tinypipe-idf-build-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function idfBuild(files: Record<string, string>, sizes: Record<string, number>): string {
  const dir = mkdtempSync(join(root, 'idf-'));
  mkdirSync(join(dir, 'bootloader'));
  mkdirSync(join(dir, 'partition_table'));
  writeFileSync(join(dir, 'flasher_args.json'), JSON.stringify({ flash_files: files }));
  for (const [name, size] of Object.entries(sizes))
    writeFileSync(join(dir, name), new Uint8Array(size).fill(0xe9));
  return dir;
}

describe('readIdfBuild', () => {
  it('takes the bootloader and the app, and leaves the partition table to the plan', async () => {
    const dir = idfBuild(
      {
        '0x0': 'bootloader/bootloader.bin',
        '0x10000': 'tinypipe.bin',
        '0x8000': 'partition_table/partition-table.bin',
      },
      {
        'bootloader/bootloader.bin': 20000,
        'tinypipe.bin': 300000,
        'partition_table/partition-table.bin': 3072,
      },
    );
    const regions = await readIdfBuild(dir);
    expect(regions.map((r) => [r.name, r.offset, r.bytes.length])).toEqual([
      ['bootloader.bin', 0, 20000],
      ['tinypipe.bin', 0x10000, 300000],
    ]);
  });

  it('refuses an app that would overwrite the model partition, and a folder that is not an IDF build', async () => {
    const big = idfBuild({ '0x10000': 'tinypipe.bin' }, { 'tinypipe.bin': 0x1e0001 });
    await expect(readIdfBuild(big)).rejects.toThrow(/would reach into the model partition/);
    expect(await errorCodeOf(() => readIdfBuild(mkdtempSync(join(root, 'empty-'))))).toBe('BUILD_INVALID');
  });
});
