/**
 * `tinypipe flash --stub` and what `flash` / `boards` say about the loader, against virtual ESP32-S3
 * boards (tinypipe-board --pty --flash: the ROM loader, then esptool's stub once one is uploaded).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PtyBoard } from '@tinypipe/firmware';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-flash-stub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tinypipe flash --stub', () => {
  it("uploads esptool-js's stub and flashes through it; without --stub the ROM loader does it; boards says which answers", async () => {
    const { spawnPtyBoard } = await import('@tinypipe/firmware');
    const plan = join(tmp, 'plan.json');
    const out = join(tmp, 'build');
    expect((await runCapture(['plan', '--boards', 'esp32s3-n16r8', '--out', plan])).code).toBe(0);
    expect((await runCapture(['build', '--plan', plan, '--out', out])).code).toBe(0);
    const board = () =>
      spawnPtyBoard(undefined, { flash: join(tmp, 'board.flash'), flashSize: 16 * 1048576 });
    let b = await board();
    try {
      const probe = JSON.parse((await runCapture(['boards', '--port', b.path, '--json'])).stdout);
      expect(probe[0]).toMatchObject({ state: 'bootloader', loader: 'rom', flashBytes: 16 * 1048576 });
      const stub = await runCapture([
        'flash',
        '--build',
        out,
        '--port',
        b.path,
        '--stub',
        'esptool-js',
        '--json',
      ]);
      expect(stub.code).toBe(0);
      expect(JSON.parse(stub.stdout).boards[0]).toMatchObject({
        ok: true,
        loader: 'stub',
        written: ['partition-table.bin', 'model.img'],
      });
      await b.kill();
      b = await board();
      const rom = await runCapture(['flash', '--build', out, '--port', b.path]);
      expect(rom.code).toBe(0);
      expect(rom.stdout).toMatch(/ESP32-S3 .* 16\.00 MiB, ROM loader/);
      expect(rom.stdout).toMatch(/nothing to write; skipped partition-table\.bin, model\.img/);
    } finally {
      await b.kill('SIGKILL');
    }
  }, 120_000);

  it('a stub file that is not one is refused before any port is opened', async () => {
    const bad = join(tmp, 'bad-stub.json');
    writeFileSync(bad, JSON.stringify({ entry: 1077384484, text: 'not base64!' }));
    const r = await runCapture([
      'flash',
      '--build',
      join(tmp, 'none'),
      '--port',
      '/dev/tinypipe-nope',
      '--stub',
      bad,
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^tinypipe: STUB_INVALID: .*bad-stub\.json is not a flasher stub .*text: .*text_start: /,
    );
  });
});

describe('tinypipe flash: which chip is which board', () => {
  const macs = ['7c:df:a1:00:00:0a', '7c:df:a1:00:00:0b'];
  const spawn = async (i: number, mac = macs[i]!) => {
    const { spawnPtyBoard } = await import('@tinypipe/firmware');
    return spawnPtyBoard(undefined, { flash: join(tmp, `pair-${i}.flash`), flashSize: 16 * 1048576, mac });
  };
  const sha = (i: number) =>
    createHash('sha256')
      .update(readFileSync(join(tmp, `pair-${i}.flash`)))
      .digest('hex');
  const recorded = (out: string, i: number) =>
    JSON.parse(readFileSync(join(out, `board-${i}`, 'manifest.json'), 'utf8')).mac;

  it('the same port twice is a usage error before any port opens, also through a symlink', async () => {
    const r = await runCapture([
      'flash',
      '--build',
      join(tmp, 'none'),
      '--port',
      '/dev/tinypipe-a',
      '--port',
      '/dev/tinypipe-a',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'tinypipe: USAGE: --port /dev/tinypipe-a is given twice (for board 0 and board 1): give each board its own port\n',
    );
    const b = await spawn(0);
    try {
      const link = join(tmp, 'by-id');
      symlinkSync(b.path, link);
      const s = await runCapture(['flash', '--build', join(tmp, 'none'), '--port', b.path, '--port', link]);
      expect(s.code).toBe(2);
      expect(s.stderr).toMatch(`is given twice (for board 0 and board 1, as ${b.path})`);
    } finally {
      await b.kill('SIGKILL');
    }
  });

  it('swapped ports are matched by the recorded MACs; a chip that is no board of the build is refused before any write; --forget-macs pairs anew', async () => {
    const plan = join(tmp, 'pair.json');
    const out = join(tmp, 'pair-build');
    expect((await runCapture(['plan', '--boards', 'esp32s3-n16r8,esp32s3-n16r8', '--out', plan])).code).toBe(
      0,
    );
    expect((await runCapture(['build', '--plan', plan, '--out', out])).code).toBe(0);
    const flash = (ports: PtyBoard[], ...extra: string[]) =>
      runCapture(['flash', '--build', out, ...ports.flatMap((b) => ['--port', b.path]), ...extra]);
    let list = [await spawn(0), await spawn(1)];
    try {
      const first = await flash([list[0]!, list[1]!]);
      expect(first.code).toBe(0);
      expect([recorded(out, 0), recorded(out, 1)]).toEqual(macs);
      await Promise.all(list.map((b) => b.kill()));

      // the ports given the other way round: each board's chip is found by its MAC
      list = [await spawn(0), await spawn(1)];
      const swapped = await flash([list[1]!, list[0]!]);
      expect(swapped.code).toBe(0);
      expect(swapped.stdout).toContain(
        `board 0: its chip (${macs[0]}) answers on ${list[0]!.path}, so that port flashes it`,
      );
      expect(swapped.stdout).toMatch(
        /board 0 .*: nothing to write; skipped partition-table\.bin, model\.img/,
      );
      await Promise.all(list.map((b) => b.kill()));

      // board 1 replaced by another chip: refused before anything is written, until --forget-macs
      list = [await spawn(0), await spawn(1, '7c:df:a1:00:00:0c')];
      const before = [sha(0), sha(1)];
      const replaced = await flash([list[0]!, list[1]!]);
      expect(replaced.code).toBe(1);
      expect(replaced.stdout).toContain(
        `board 1 ${list[1]!.path}: FAILED WRONG_BOARD: ${list[1]!.path} has the chip 7c:df:a1:00:00:0c, but board 1's build was flashed to ${macs[1]}; nothing was written. If ${macs[1]} is on another port, give the ports in board order; if board 1 was replaced, pass --forget-macs (flashPlan's forgetMacs) to pair it anew`,
      );
      expect(replaced.stderr).toMatch(/^tinypipe: WRONG_BOARD: 1 of 2 board\(s\) failed/);
      expect(list[1]!.log()).not.toMatch(/flash: begin/);
      expect([sha(0), sha(1)]).toEqual(before);
      expect(recorded(out, 1)).toBe(macs[1]);
      await Promise.all(list.map((b) => b.kill()));

      list = [await spawn(0), await spawn(1, '7c:df:a1:00:00:0c')];
      const forget = await flash([list[0]!, list[1]!], '--forget-macs');
      expect(forget.code).toBe(0);
      expect(recorded(out, 1)).toBe('7c:df:a1:00:00:0c');
    } finally {
      await Promise.all(list.map((b) => b.kill('SIGKILL')));
    }
  }, 120_000);
});
