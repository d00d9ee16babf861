import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@tinypipe/core';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from './io/capture.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-plan-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tinypipe plan', () => {
  it('prints a table with the predicted figures labelled as a prediction', async () => {
    const r = await runCapture(['plan', '--model', 'synth:15M', '--boards', 'esp32s3-n16r8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/stories15M q4 \(group 32\), 1 board\(s\)/);
    expect(r.stdout).toMatch(/esp32s3-n16r8\s+0–5\s+yes\s+0–31999/); // inclusive ranges
    expect(r.stdout).toMatch(/predicted \(cost model, not measured\): \d+\.\d\d tok\/s/);
    expect(r.stdout).toMatch(
      /^figures of esp32s3-n16r8: datasheet .*; kernel ansi \(portable C, the firmware’s\)/m,
    );
  });

  it('--kernel optimized projects the PIE kernel the firmware does not have, and says so', async () => {
    const plan15M = (...more: string[]) =>
      runCapture(['plan', '--model', 'synth:15M', '--boards', 'esp32s3-n16r8', ...more]);
    const base = await plan15M('--json');
    const r = await plan15M('--kernel', 'optimized');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /kernel optimized \(not the firmware’s \(it has ansi\): a what-if\) 5\.8 MAC\/cycle/,
    );
    const json = JSON.parse((await plan15M('--kernel', 'optimized', '--json')).stdout);
    expect(json.kernel).toBe('optimized');
    expect(json.predicted.tokensPerSecond).toBeGreaterThan(JSON.parse(base.stdout).predicted.tokensPerSecond);
  });

  it('--boards auto:NAME takes the fewest boards that fit', async () => {
    const r = await runCapture([
      'plan',
      '--model',
      'synth:110M',
      '--boards',
      'auto:esp32s3-n16r8',
      '--seq-len',
      '256',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    const n = plan.boards.length;
    const fewer = await runCapture([
      'plan',
      '--model',
      'synth:110M',
      '--seq-len',
      '256',
      '--boards',
      Array.from({ length: n - 1 }, () => 'esp32s3-n16r8').join(','),
    ]);
    expect(fewer.code).toBe(1);
    expect(fewer.stderr).toMatch(/^tinypipe: PLAN_INFEASIBLE: /);
  });

  it('infeasible → exit 1, one line with what does not fit and the smallest fix', async () => {
    const r = await runCapture(['plan', '--model', 'synth:42M', '--quant', 'q8', '--boards', 'esp32s3-n8r2']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/PLAN_INFEASIBLE: .*short by 38\.23 MB.*Smallest fix: use q4 instead of q8/);
  });

  it('bad flags and profiles get their own codes', async () => {
    const unknown = await runCapture(['plan', '--boards', 'esp32s3-n4r0']);
    expect(unknown.code).toBe(2); // a flag value: usage
    expect(unknown.stderr).toMatch(/BOARD_UNKNOWN: unknown board "esp32s3-n4r0"/);
    const custom = join(tmp, 'mine.json');
    writeFileSync(custom, JSON.stringify({ name: 'mine', chip: 'esp32s3' }));
    const invalid = await runCapture(['plan', '--boards', custom]);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/PROFILE_INVALID: mine\.json is not a valid board profile:/);
    expect(invalid.stderr).toMatch(/flashBytes: /);
    const usage = await runCapture(['plan', '--boards', 'esp32s3-n16r8', '--objective', 'fastest']);
    expect(usage.code).toBe(2);
  });
});

describe('tinypipe build', () => {
  it('writes per board an image, partitions.csv, partition-table.bin and a manifest with SHA-256 of each file', async () => {
    const planFile = join(tmp, 'plan.json');
    const p = await runCapture([
      'plan',
      '--boards',
      'esp32s3-n16r8,esp32s3-n8r2',
      '--quant',
      'q8',
      '--out',
      planFile,
    ]);
    expect(p.code).toBe(0);
    const out = join(tmp, 'build');
    const r = await runCapture(['build', '--plan', planFile, '--out', out, '--json']);
    expect(r.code).toBe(0);
    const { boards } = JSON.parse(r.stdout);
    expect(boards).toHaveLength(2);
    const plan = JSON.parse(readFileSync(planFile, 'utf8'));
    for (const [i, b] of boards.entries()) {
      for (const f of b.files) {
        const bytes = readFileSync(join(b.dir, f.name));
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
        expect(bytes.length).toBe(f.bytes);
      }
      const image = readImage(new Uint8Array(readFileSync(join(b.dir, 'model.img'))));
      expect(image.header.layerRange).toEqual(plan.boards[i].layers);
      expect(readFileSync(join(b.dir, 'partition-table.bin')).length).toBe(0xc00);
      expect(readFileSync(join(b.dir, 'partitions.csv'), 'utf8')).toMatch(/^model, data, 0x40, 0x1f0000, /m);
      const manifest = JSON.parse(readFileSync(join(b.dir, 'manifest.json'), 'utf8'));
      expect(manifest.files.find((f: { name: string }) => f.name === 'partition-table.bin').offset).toBe(
        0x8000,
      );
    }
  });

  it('a plan that is not valid JSON or breaks the schema → PLAN_INVALID with the field', async () => {
    const broken = join(tmp, 'broken.json');
    writeFileSync(broken, '{"format": "tinypipe-plan", "version": 1}');
    const r = await runCapture(['build', '--plan', broken, '--out', join(tmp, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PLAN_INVALID: .*model: /);
    writeFileSync(broken, 'not json');
    expect((await runCapture(['build', '--plan', broken, '--out', join(tmp, 'x')])).stderr).toMatch(
      /PLAN_INVALID: cannot read the plan/,
    );
  });
});

/** `tinypipe plan --boards … --out` then `tinypipe build`: the build folder. */
async function planAndBuild(tag: string, boards: string): Promise<string> {
  const planFile = join(tmp, `${tag}-plan.json`);
  const out = join(tmp, `${tag}-build`);
  expect((await runCapture(['plan', '--boards', boards, '--out', planFile])).code).toBe(0);
  expect((await runCapture(['build', '--plan', planFile, '--out', out])).code).toBe(0);
  return out;
}

describe('tinypipe flash', () => {
  it('flashes a build onto virtual ESP32-S3 boards; a re-run skips everything; a missing port fails only its board', async () => {
    const { spawnPtyBoard } = await import('@tinypipe/firmware');
    const out = await planAndBuild('flash', 'esp32s3-n16r8,esp32s3-n16r8');
    const boards = await Promise.all(
      [0, 1].map((i) =>
        spawnPtyBoard(undefined, {
          flash: join(tmp, `cli-${i}.flash`),
          flashSize: 16 * 1048576,
          mac: `7c:df:a1:00:00:0${i}`,
        }),
      ),
    );
    try {
      const ports = boards.flatMap((b) => ['--port', b.path]);
      const first = await runCapture(['flash', '--build', out, ...ports, '--json']);
      expect(first.code).toBe(0);
      const r1 = JSON.parse(first.stdout);
      expect(r1.boards.map((b: { written: string[] }) => b.written)).toEqual([
        ['partition-table.bin', 'model.img'],
        ['partition-table.bin', 'model.img'],
      ]);
      // the boards rebooted into the firmware; power-cycle them back into the bootloader (same flash)
      await Promise.all(boards.map((b) => b.kill()));
      boards.splice(
        0,
        2,
        ...(await Promise.all(
          [0, 1].map((i) =>
            spawnPtyBoard(undefined, {
              flash: join(tmp, `cli-${i}.flash`),
              flashSize: 16 * 1048576,
              mac: `7c:df:a1:00:00:0${i}`,
            }),
          ),
        )),
      );
      // the manifests now remember each board's MAC: the ports may come in any order
      const again = await runCapture([
        'flash',
        '--build',
        out,
        '--port',
        boards[1]!.path,
        '--port',
        boards[0]!.path,
      ]);
      expect(again.code).toBe(0);
      expect(again.stdout).toMatch(
        /board 0 .*: nothing to write; skipped partition-table\.bin, model\.img \(already there\)/,
      );
      // once more from the bootloader, with board 1's port missing
      await boards[0]!.kill();
      boards[0] = await spawnPtyBoard(undefined, {
        flash: join(tmp, 'cli-0.flash'),
        flashSize: 16 * 1048576,
        mac: '7c:df:a1:00:00:00', // board 0's chip (another would be refused: WRONG_BOARD)
      });
      const missing = await runCapture([
        'flash',
        '--build',
        out,
        '--port',
        boards[0]!.path,
        '--port',
        '/dev/tinypipe-nope',
      ]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toMatch(
        /^tinypipe: PORT_NOT_FOUND: 1 of 2 board\(s\) failed \(board 1 on \/dev\/tinypipe-nope: PORT_NOT_FOUND\)/,
      );
      expect(missing.stdout).toMatch(/board 0 .*: nothing to write/);
      expect(missing.stderr).toMatch(/; the other 1 is flashed — /);
    } finally {
      await Promise.all(boards.map((b) => b.kill('SIGKILL')));
    }
  }, 120_000);

  it('tinypipe boards tells a bootloader (chip, MAC, flash) from the firmware (fingerprint, layers)', async () => {
    const { spawnPtyBoard } = await import('@tinypipe/firmware');
    const out = await planAndBuild('boards', 'esp32s3-n16r8');
    const rom = await spawnPtyBoard(undefined, {
      flash: join(tmp, 'boards-rom.flash'),
      flashSize: 8 * 1048576,
      mac: '7c:df:a1:12:34:56',
    });
    const fw = await spawnPtyBoard(join(out, 'board-0', 'model.img'), { board: 0 });
    try {
      const r = await runCapture(['boards', '--port', rom.path, '--port', fw.path, '--json']);
      expect(r.code).toBe(0);
      const [a, b] = JSON.parse(r.stdout);
      expect(a).toMatchObject({
        state: 'bootloader',
        chip: 'ESP32-S3',
        mac: '7c:df:a1:12:34:56',
        flashBytes: 8 * 1048576,
      });
      const manifest = JSON.parse(readFileSync(join(out, 'board-0', 'manifest.json'), 'utf8'));
      expect(b).toMatchObject({
        state: 'firmware',
        board: 0,
        fingerprint: manifest.fingerprint,
        layers: manifest.layers,
      });
    } finally {
      await Promise.all([rom.kill('SIGKILL'), fw.kill('SIGKILL')]);
    }
  }, 60_000);

  it('a port held by another program fails its board with PORT_BUSY; the other board is flashed', async () => {
    const { spawnPtyBoard } = await import('@tinypipe/firmware');
    const { openSerialPort } = await import('@tinypipe/transport-uart/node');
    const out = await planAndBuild('busy', 'esp32s3-n16r8,esp32s3-n16r8');
    const boards = await Promise.all(
      [0, 1].map((i) =>
        spawnPtyBoard(undefined, { flash: join(tmp, `busy-${i}.flash`), flashSize: 16 * 1048576 }),
      ),
    );
    const holder = await openSerialPort(boards[1]!.path); // a serial monitor left open
    try {
      const r = await runCapture([
        'flash',
        '--build',
        out,
        '--port',
        boards[0]!.path,
        '--port',
        boards[1]!.path,
        '--json',
      ]);
      expect(r.code).toBe(1);
      const summary = JSON.parse(r.stdout);
      expect(summary.boards[0].ok).toBe(true);
      expect(summary.boards[1].error.code).toBe('PORT_BUSY');
      expect(r.stderr).toMatch(/board 1 on .*: PORT_BUSY/);
    } finally {
      await holder.close();
      await Promise.all(boards.map((b) => b.kill('SIGKILL')));
    }
  }, 60_000);

  it('a build folder that does not match its manifest is refused before anything is written', async () => {
    const r = await runCapture(['flash', '--build', join(tmp, 'no-such-build'), '--port', '/dev/null']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/BUILD_INVALID: .*cannot read the build folder/);
  });
});
