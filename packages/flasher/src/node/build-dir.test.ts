import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { readBuild, writeBuild } from './build-dir.js';

const root = mkdtempSync(join(tmpdir(), 'tinypipe-build-dir-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** An ESP-IDF binary partition table (entries, MD5 marker, 0xFF) with a `model` partition at 0x1f0000. */
function table(parts = [{ name: 'model', offset: 0x1f0000, size: 0x100000 }]): Uint8Array {
  const out = new Uint8Array(0xc00).fill(0xff);
  const v = new DataView(out.buffer);
  parts.forEach((p, i) => {
    v.setUint16(i * 32, 0xaa50, true);
    v.setUint8(i * 32 + 2, 1);
    v.setUint8(i * 32 + 3, 0x40);
    v.setUint32(i * 32 + 4, p.offset, true);
    v.setUint32(i * 32 + 8, p.size, true);
    out.fill(0, i * 32 + 12, i * 32 + 32);
    for (let k = 0; k < p.name.length; k++) out[i * 32 + 12 + k] = p.name.charCodeAt(k);
  });
  v.setUint16(parts.length * 32, 0xebeb, true);
  return out;
}

interface FakeManifest {
  board: number;
  build?: string;
  files: { name: string; bytes?: number; sha256: string; offset?: number; partition?: string }[];
}

function board(
  dir: string,
  index: number,
  files: Record<string, Uint8Array>,
  tamper?: (m: FakeManifest) => void,
): void {
  const folder = join(dir, `board-${index}`);
  mkdirSync(folder);
  const manifest = {
    board: index,
    build: '0123456789abcdef',
    chip: 'esp32s3',
    flashBytes: 16 * 1048576,
    fingerprint: 'ab'.repeat(32),
    layers: [0, 5],
    files: Object.entries(files).map(([name, bytes]) => ({
      name,
      bytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      offset: name === 'partition-table.bin' ? 0x8000 : 0x1f0000,
    })),
  };
  tamper?.(manifest);
  for (const [name, bytes] of Object.entries(files)) writeFileSync(join(folder, name), bytes);
  writeFileSync(join(folder, 'manifest.json'), JSON.stringify(manifest));
}

function build(files: Record<string, Uint8Array>, tamper?: (m: FakeManifest) => void): string {
  const dir = mkdtempSync(join(root, 'build-'));
  board(dir, 0, files, tamper);
  return dir;
}

const good = () => ({ 'model.img': Uint8Array.of(1, 2, 3), 'partition-table.bin': table() });

describe('readBuild', () => {
  it('reads every board’s regions, partition table first, each checked against its SHA-256', async () => {
    const [b] = await readBuild(build(good()));
    expect(b!.regions.map((r) => [r.name, r.offset])).toEqual([
      ['partition-table.bin', 0x8000],
      ['model.img', 0x1f0000],
    ]);
    expect(b!.layers).toEqual([0, 5]);
    expect(b!.build).toBe('0123456789abcdef');
  });

  it('refuses a file that does not match its manifest, and a folder with no boards', async () => {
    const dir = build(good(), (m) => {
      m.files[0]!.sha256 = '00'.repeat(32);
    });
    expect(await errorCodeOf(() => readBuild(dir))).toBe('BUILD_INVALID');
    await expect(readBuild(dir)).rejects.toThrow(/model\.img does not match its manifest/);
    expect(await errorCodeOf(() => readBuild(mkdtempSync(join(root, 'empty-'))))).toBe('BUILD_INVALID');
  });

  it('refuses manifest entries that leave the board folder: .., absolute, a symlink out', async () => {
    const secret = join(root, 'secret.bin');
    writeFileSync(secret, 'not an image');
    const sha = createHash('sha256').update('not an image').digest('hex');
    for (const name of ['../../secret.bin', secret, 'sub/../../x']) {
      const dir = build(good(), (m) => m.files.push({ name, bytes: 12, sha256: sha, offset: 0 }));
      expect(await errorCodeOf(() => readBuild(dir))).toBe('PATH_OUTSIDE');
    }
    const dir = build(good(), (m) =>
      m.files.push({ name: 'link.bin', bytes: 12, sha256: sha, offset: 0x1f0000 }),
    );
    symlinkSync(secret, join(dir, 'board-0', 'link.bin'));
    expect(await errorCodeOf(() => readBuild(dir))).toBe('PATH_OUTSIDE');
    await expect(readBuild(dir)).rejects.toThrow(/"link\.bin" leaves/);
  });

  it('refuses regions outside their partition, overlapping, past the flash or with no partition table', async () => {
    const at = (offset: number, partition?: string) =>
      build(good(), (m) => {
        m.files[0]!.offset = offset;
        if (partition) m.files[0]!.partition = partition;
      });
    expect(await errorCodeOf(() => readBuild(at(0)))).toBe('BAD_OFFSET'); // the bootloader
    expect(await errorCodeOf(() => readBuild(at(0x8000 + 0x100)))).toBe('BAD_OFFSET'); // on the table
    expect(await errorCodeOf(() => readBuild(at(0x1f0000 + 0x100000 - 2)))).toBe('BAD_OFFSET'); // straddles the end
    expect(await errorCodeOf(() => readBuild(at(0x1f0000, 'nvs')))).toBe('BAD_OFFSET'); // not the partition it names
    expect(await errorCodeOf(() => readBuild(at(16 * 1048576 - 1)))).toBe('BAD_OFFSET'); // past the flash
    expect((await readBuild(at(0x1f0000, 'model')))[0]!.regions).toHaveLength(2);
    const noTable = build({ 'model.img': Uint8Array.of(1) });
    expect(await errorCodeOf(() => readBuild(noTable))).toBe('BAD_OFFSET');
    const two = build({ ...good(), 'more.img': Uint8Array.of(9, 9) }, (m) => {
      m.files[2]!.offset = 0x1f0002;
    });
    await expect(readBuild(two)).rejects.toThrow(/model\.img and more\.img overlap at 0x1f0002/);
  });

  it('refuses boards from different builds (MIXED_BUILD names each board and its build)', async () => {
    const dir = mkdtempSync(join(root, 'mixed-'));
    board(dir, 0, good());
    board(dir, 1, good(), (m) => {
      m.build = 'fedcba9876543210';
    });
    expect(await errorCodeOf(() => readBuild(dir))).toBe('MIXED_BUILD');
    await expect(readBuild(dir)).rejects.toThrow(/board 0 0123456789abcdef, board 1 fedcba9876543210/);
  });
});

describe('readBuild: what a board’s manifest says besides its regions (issue 20)', () => {
  it('reads kv and the host image’s entry without flashing it; a bad kv or host entry is BUILD_INVALID', async () => {
    const host = { path: 'host.tpimg', sha256: 'cd'.repeat(32), bytes: 3 };
    const [b] = await readBuild(build(good(), (m) => Object.assign(m, { kv: 'int8', host })));
    expect(b!.regions.map((r) => r.name)).toEqual(['partition-table.bin', 'model.img']);
    for (const bad of [
      { kv: 'int4' },
      { host: { ...host, sha256: 'x' } },
      { host: { path: 'host.tpimg' } },
    ]) {
      const dir = build(good(), (m) => Object.assign(m, bad));
      expect(await errorCodeOf(() => readBuild(dir))).toBe('BUILD_INVALID');
      await expect(readBuild(dir)).rejects.toThrow(/manifest\.json: (kv|host)/);
    }
  });
});

describe('writeBuild', () => {
  const boards = (tag: string) => [
    {
      dir: 'board-0',
      files: [{ name: 'model.img', bytes: new TextEncoder().encode(tag) }],
      manifest: { tag },
    },
    {
      dir: 'board-1',
      files: [{ name: 'model.img', bytes: new TextEncoder().encode(tag) }],
      manifest: { tag },
    },
  ];

  it('replaces a build whole, and a full disk leaves the old one untouched with no temp files', async () => {
    const parent = mkdtempSync(join(root, 'write-'));
    const out = join(parent, 'out');
    await writeBuild(out, boards('q4'));
    expect(readFileSync(join(out, 'board-1', 'model.img'), 'utf8')).toBe('q4');
    let writes = 0;
    const full = async (path: string, bytes: Uint8Array) => {
      if (++writes === 3) throw Object.assign(new Error('no space left on device'), { code: 'ENOSPC' });
      writeFileSync(path, bytes);
    };
    expect(await errorCodeOf(() => writeBuild(out, boards('q8'), { writeFile: full }))).toBe('DISK_FULL');
    expect(readFileSync(join(out, 'board-0', 'model.img'), 'utf8')).toBe('q4');
    expect(readFileSync(join(out, 'board-0', 'manifest.json'), 'utf8')).toContain('"q4"');
    expect(readdirSync(parent)).toEqual(['out']);
    const quota = async () => {
      throw Object.assign(new Error('quota'), { code: 'EDQUOT' });
    };
    await expect(writeBuild(out, boards('q8'), { writeFile: quota })).rejects.toThrow(
      /disk is full \(EDQUOT\).*untouched/,
    );
    await writeBuild(out, boards('q8'));
    expect(readFileSync(join(out, 'board-1', 'model.img'), 'utf8')).toBe('q8');
    expect(readdirSync(parent)).toEqual(['out']);
    expect(existsSync(join(out, 'board-0', 'manifest.json'))).toBe(true);
  });
});
