/**
 * `tinypipe flash --stub` and what `flash` / `boards` say about the loader, against virtual ESP32-S3
 * boards (tinypipe-board --pty --flash: the ROM loader, then esptool's stub once one is uploaded).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
