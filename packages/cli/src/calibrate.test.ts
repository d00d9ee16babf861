import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, quantize, readCheckpoint } from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCapture } from './io/capture.test-helper.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-calibrate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The sum mod 2^32 of the little-endian u32 words of `bytes`, the tail zero-padded (protocol §5.1). */
function wordSum(bytes: Uint8Array): number {
  const padded = new Uint8Array(Math.ceil(bytes.length / 4) * 4);
  padded.set(bytes);
  const v = new DataView(padded.buffer);
  let sum = 0;
  for (let i = 0; i < padded.length; i += 4) sum = (sum + v.getUint32(i, true)) >>> 0;
  return sum;
}

describe('tinypipe calibrate on a simulated board', () => {
  const image = join(tmp, 'model.img');
  let bytes: Uint8Array;
  let board: PtyBoard;
  beforeAll(async () => {
    const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
    bytes = buildImage(quantize(checkpoint, { weights: 'q8' }), {
      layers: [0, 5],
      embedding: true,
      classifier: true,
    });
    writeFileSync(image, bytes);
    board = await spawnPtyBoard(image, { board: 0 });
  });
  afterAll(async () => {
    await board?.kill();
  });

  it('measures the board (the host here, and says so), writes a measured profile, and plan/build take it, labelled measured', async () => {
    const out = join(tmp, 'measured.json');
    const r = await runCapture([
      'calibrate',
      '--port',
      board.path,
      '--budget-ms',
      '50',
      '--round-trips',
      '5',
      '--out',
      out,
      '--json',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const { calibration: c, profile } = JSON.parse(r.stdout);
    expect(c.answer).toMatchObject({
      budgetMs: 50,
      board: 0,
      host: true,
      image: true,
      imageBytes: bytes.length,
    });
    expect(c.answer.port).toMatch(/^posix: the host/);
    expect(c.kernel).toBe('opt'); // the host build compiles the optimized kernels (CMakeLists TP_KERNELS_OPT)
    // the board read its whole image once, front to back: the checksum is the file's
    expect(c.answer.readBytes).toBe(bytes.length);
    expect(c.answer.readSum).toBe(wordSum(bytes));
    expect(c.macsPerSecond.q4).toBeGreaterThan(0);
    expect(c.macsPerSecond.q8).toBeGreaterThan(0);
    expect(c.roundTrip.samples).toBe(5);
    expect(profile).toMatchObject({
      name: 'esp32s3-n16r8-measured',
      kernel: 'ansi',
      measured: { host: true },
    });
    expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(profile);

    const text = await runCapture(['plan', '--boards', `${out},${out}`]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      /^figures of esp32s3-n16r8-measured: measured by tinypipe calibrate \d{4}-\d\d-\d\d on posix: the host \(a simulated board\) — a simulated board: the host’s figures, not a board’s; kernel ansi \(portable C, the firmware’s: kernel opt/m,
    );
    const planFile = join(tmp, 'plan.json');
    const json = await runCapture(['plan', '--boards', out, '--quant', 'q8', '--out', planFile, '--json']);
    expect(json.code).toBe(0);
    const plan = JSON.parse(json.stdout);
    expect(plan.predicted.figures).toBe('measured');
    expect(plan.boards[0].predicted).toMatchObject({ figures: 'measured', kernel: 'ansi' });
    expect(plan.boards[0].predicted.macsPerCycle).toBe(profile.macsPerCycle.ansi.q8);
    const built = await runCapture(['build', '--plan', planFile, '--out', join(tmp, 'build')]);
    expect(built.code).toBe(0);
    expect(existsSync(join(tmp, 'build', 'board-0', 'model.img'))).toBe(true);
  }, 60_000);

  it('prints a summary for people, naming what it measured and that a simulated board measures the host', async () => {
    const r = await runCapture([
      'calibrate',
      '--port',
      board.path,
      '--budget-ms',
      '20',
      '--round-trips',
      '3',
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /^calibrated .*: posix: the host \(a simulated board\) — a simulated board: these are the host’s figures/,
    );
    expect(r.stdout).toMatch(/^ {2}kernel {9}opt \(src\/kernels\.h\), 1 core, clock unknown$/m);
    expect(r.stdout).toMatch(/^ {2}flash read {5}[\d.]+ MB\/s: \d+ of its \d+ image bytes/m);
    expect(r.stdout).toMatch(/^ {2}matmul {9}q4 [\d.]+ [kMG]?MAC\/s, q8 [\d.]+ [kMG]?MAC\/s/m);
    expect(r.stdout).toMatch(/^ {2}round trip {5}[\d.]+ ms median/m);
    expect(r.stdout).toMatch(/--out FILE writes it/);
    expect(r.stderr).toMatch(/timed 3 round trips\nthe board measures itself/);
  }, 60_000);

  it('bad flags and missing firmware say what to do', async () => {
    const budget = await runCapture(['calibrate', '--port', board.path, '--budget-ms', '5000']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(/USAGE: --budget-ms must be from 1 to 2000/);
    const profile = await runCapture([
      'calibrate',
      '--port',
      board.path,
      '--profile',
      join(tmp, 'nope.json'),
    ]);
    expect(profile.code).toBe(1);
    expect(profile.stderr).toMatch(/PROFILE_INVALID: cannot read the board profile/);
    const demo = await runCapture(['demo', '--profile', join(tmp, 'nope.json')]);
    expect(demo.stderr).toMatch(/PROFILE_INVALID: cannot read the board profile/);
  });
});
