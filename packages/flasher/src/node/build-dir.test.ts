import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCodeOf } from '@tinypipe/core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readBuild } from './build-dir.js';

const root = mkdtempSync(join(tmpdir(), 'tinypipe-build-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function build(
  files: Record<string, Uint8Array>,
  tamper?: (m: { files: { name: string; sha256: string }[] }) => void,
): string {
  const dir = mkdtempSync(join(root, 'build-'));
  const board = join(dir, 'board-0');
  mkdirSync(board);
  const manifest = {
    board: 0,
    chip: 'esp32s3',
    flashBytes: 16 * 1048576,
    fingerprint: 'ab'.repeat(32),
    layers: [0, 5],
    files: Object.entries(files).map(([name, bytes], i) => ({
      name,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      offset: i === 0 ? 0x1f0000 : 0x8000,
    })),
  };
  tamper?.(manifest);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(board, name), bytes);
  writeFileSync(join(board, 'manifest.json'), JSON.stringify(manifest));
  return dir;
}

describe('readBuild', () => {
  it('reads every board’s regions, partition table first, each checked against its SHA-256', async () => {
    const dir = build({ 'model.img': Uint8Array.of(1, 2, 3), 'partition-table.bin': Uint8Array.of(4) });
    const [b] = await readBuild(dir);
    expect(b!.regions.map((r) => [r.name, r.offset])).toEqual([
      ['partition-table.bin', 0x8000],
      ['model.img', 0x1f0000],
    ]);
    expect(b!.layers).toEqual([0, 5]);
  });

  it('refuses a file that does not match its manifest, and a folder with no boards', async () => {
    const dir = build({ 'model.img': Uint8Array.of(1, 2, 3) }, (m) => {
      m.files[0]!.sha256 = '00'.repeat(32);
    });
    expect(await errorCodeOf(() => readBuild(dir))).toBe('BUILD_INVALID');
    await expect(readBuild(dir)).rejects.toThrow(/model\.img does not match its manifest/);
    expect(await errorCodeOf(() => readBuild(mkdtempSync(join(root, 'empty-'))))).toBe('BUILD_INVALID');
  });
});
