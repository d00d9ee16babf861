/**
 * Build integrity and confined paths through the real CLI (issue 17 items 2–3): a plan cannot make
 * build read any file, a manifest cannot make flash write any file anywhere, boards of two builds are
 * refused, and a rebuild that fills the disk leaves the previous build whole.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PtyBoard } from '@tinypipe/firmware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-build-integrity-'));
const repo = join(__dirname, '..', '..', '..', '..');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const tree = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${join(e.parentPath, e.name)} ${sha(join(e.parentPath, e.name))}`)
    .sort();

let board: PtyBoard;
const flashFile = join(tmp, 'board.flash');
beforeAll(async () => {
  const { spawnPtyBoard } = await import('@tinypipe/firmware');
  board = await spawnPtyBoard(undefined, { flash: flashFile, flashSize: 16 * 1048576 });
});
afterAll(async () => {
  await board?.kill();
  rmSync(tmp, { recursive: true, force: true });
});

async function plan(name: string, ...more: string[]): Promise<string> {
  const file = join(tmp, name);
  expect((await runCapture(['plan', '--boards', 'esp32s3-n16r8', '--out', file, ...more])).code).toBe(0);
  return file;
}

describe('tinypipe build reads a plan’s model only inside the plan’s folder', () => {
  it('refuses model.source that is absolute, has .. or is a symlink out (PATH_OUTSIDE), echoing nothing of the file', async () => {
    const secret = join(tmp, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET-BYTES');
    const json = JSON.parse(readFileSync(await plan('base.json'), 'utf8'));
    const dir = join(tmp, 'plans');
    mkdirSync(dir);
    for (const source of [secret, '../secret.txt', 'a/../../secret.txt']) {
      const file = join(dir, 'evil.json');
      writeFileSync(file, JSON.stringify({ ...json, model: { ...json.model, source } }));
      const r = await runCapture(['build', '--plan', file, '--out', join(tmp, 'evil-out')]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tinypipe: PATH_OUTSIDE: the plan's model.source .* --model PATH\n$/);
      expect(r.stderr).not.toMatch(/TOP-SECRET/);
    }
    execFileSync('ln', ['-s', secret, join(dir, 'model.bin')]);
    writeFileSync(
      join(dir, 'evil.json'),
      JSON.stringify({ ...json, model: { ...json.model, source: 'model.bin' } }),
    );
    const r = await runCapture(['build', '--plan', join(dir, 'evil.json'), '--out', join(tmp, 'evil-out')]);
    expect(r.stderr).toMatch(/PATH_OUTSIDE: .*"model\.bin" leaves/);
    expect(existsSync(join(tmp, 'evil-out'))).toBe(false);
  });

  it('plan --out writes a model beside the plan as a relative path, which build reads', async () => {
    const dir = join(tmp, 'beside');
    mkdirSync(dir);
    cpSync(join(repo, 'models', 'stories260K.bin'), join(dir, 'm.bin'));
    const file = join(dir, 'plan.json');
    const p = await runCapture([
      'plan',
      '--model',
      join(dir, 'm.bin'),
      '--boards',
      'esp32s3-n16r8',
      '--out',
      file,
    ]);
    expect(p.code).toBe(0);
    expect(JSON.parse(readFileSync(file, 'utf8')).model.source).toBe('m.bin');
    expect((await runCapture(['build', '--plan', file, '--out', join(dir, 'out')])).code).toBe(0);
  });
});

describe('tinypipe flash refuses a build that escapes its folder or mixes builds, writing nothing', () => {
  it('a manifest entry ../../… at offset 0 is PATH_OUTSIDE; a region outside its partition is BAD_OFFSET', async () => {
    const out = join(tmp, 'escape');
    expect((await runCapture(['build', '--plan', await plan('one.json'), '--out', out])).code).toBe(0);
    const before = sha(flashFile);
    const manifestPath = join(out, 'board-0', 'manifest.json');
    const good = readFileSync(manifestPath, 'utf8');
    const edit = (
      f: (m: { files: { name: string; offset?: number; sha256: string; bytes: number }[] }) => void,
    ) => {
      const m = JSON.parse(good);
      f(m);
      writeFileSync(manifestPath, JSON.stringify(m));
    };
    edit((m) =>
      m.files.push({ name: '../../secret.txt', offset: 0, bytes: 16, sha256: sha(join(tmp, 'secret.txt')) }),
    );
    let r = await runCapture(['flash', '--build', out, '--port', board.path]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^tinypipe: PATH_OUTSIDE: manifest entry "\.\.\/\.\.\/secret\.txt" leaves /);
    edit((m) => {
      m.files.find((f) => f.name === 'model.img')!.offset = 0x10000; // the app, not the model partition
    });
    r = await runCapture(['flash', '--build', out, '--port', board.path]);
    expect(r.stderr).toMatch(
      /^tinypipe: BAD_OFFSET: .*model\.img: \[0x10000, .* is not inside partition "model"/,
    );
    expect(sha(flashFile)).toBe(before);
  });

  it('board-0 of a q8 rebuild beside board-1 of the q4 build is MIXED_BUILD naming both builds', async () => {
    const two = (name: string, quant: string) =>
      plan(name, '--boards', 'esp32s3-n16r8,esp32s3-n16r8', '--quant', quant);
    const q4 = join(tmp, 'q4');
    const q8 = join(tmp, 'q8');
    expect(
      (await runCapture(['build', '--plan', await two('q4.json', 'q4'), '--out', q4, '--json'])).code,
    ).toBe(0);
    const built = await runCapture(['build', '--plan', await two('q8.json', 'q8'), '--out', q8, '--json']);
    const ids = JSON.parse(built.stdout).boards.map((b: { build: string; quant: string }) => [
      b.build,
      b.quant,
    ]);
    expect(ids[0]).toEqual(ids[1]);
    rmSync(join(q4, 'board-0'), { recursive: true });
    cpSync(join(q8, 'board-0'), join(q4, 'board-0'), { recursive: true });
    const before = sha(flashFile);
    const r = await runCapture(['flash', '--build', q4, '--port', board.path, '--port', '/dev/ttyNOPE1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      new RegExp(
        `^tinypipe: MIXED_BUILD: the boards come from different builds \\(board 0 ${ids[0][0]}, board 1 [0-9a-f]{16}\\)`,
      ),
    );
    expect(sha(flashFile)).toBe(before);
  });
});

describe('tinypipe build on a full disk', () => {
  const mnt = join(tmp, 'small-disk');
  let mounted = false;
  beforeAll(() => {
    mkdirSync(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {}
  });
  afterAll(() => {
    if (mounted) execFileSync('umount', [mnt]);
  });

  it('a q8 rebuild over a q4 build that fills the disk is DISK_FULL, the q4 build whole, no temp files left', async (t) => {
    if (!mounted) t.skip(); // needs root to mount a 400 KiB tmpfs (q4 188 KiB, q8 316 KiB: one fits, not both)
    const out = join(mnt, 'build');
    expect(
      (await runCapture(['build', '--plan', await plan('d4.json', '--quant', 'q4'), '--out', out])).code,
    ).toBe(0);
    const before = tree(out);
    const r = await runCapture(['build', '--plan', await plan('d8.json', '--quant', 'q8'), '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^tinypipe: DISK_FULL: .*the disk is full \(ENOSPC\); the previous build there is untouched — free space/m,
    );
    expect(tree(out)).toEqual(before);
    expect(readdirSync(mnt)).toEqual(['build']);
    expect((await runCapture(['flash', '--build', out, '--port', '/dev/ttyNOPE0'])).stderr).not.toMatch(
      /MIXED_BUILD|BUILD_INVALID/,
    );
  });
});
