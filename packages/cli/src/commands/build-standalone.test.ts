/**
 * `tinypipe plan --standalone` and `tinypipe build --standalone` (issue 21 item 5): a ring's images (the
 * tokenizer in board 0's), each board's ESP-IDF overlay with board 0's story settings, and ring.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, readTokenizer } from '@tinypipe/core';
import { readBuild } from '@tinypipe/flasher/node';
import { describe, expect, it } from 'vitest';
import { models, scratchDir } from '../cli.test-helper.js';
import { runCapture } from '../io/capture.test-helper.js';

const tmp = scratchDir();
const tok512 = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);

describe('tinypipe build --standalone', () => {
  it('3 boards: the tokenizer in board 0’s image only, sdkconfig.ring per board, ring.md with every wire', async () => {
    const planFile = join(tmp, 'ring3.json');
    const p = await runCapture([
      'plan',
      '--boards',
      'esp32s3-n16r8,esp32s3-n8r2,esp32s3-n16r8',
      '--quant',
      'q8',
      '--standalone',
      '--out',
      planFile,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(p.stdout).toMatch(/standalone ring: board 0 tells the stories/);
    const plan = JSON.parse(readFileSync(planFile, 'utf8'));
    expect(plan.standalone).toBe(true);
    expect(plan.boards.at(-1).vocab).toEqual([0, 512]);

    const out = join(tmp, 'build3');
    const b = await runCapture([
      'build',
      '--plan',
      planFile,
      '--out',
      out,
      '--standalone',
      '--prompt',
      'Lily went',
      '--temperature',
      '0.8',
      '--seed',
      '42',
      '--steps',
      '120',
    ]);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toContain(`ring.md`);
    const boards = await readBuild(out); // every file matches its manifest, one build id
    expect(boards).toHaveLength(3);
    const image = (i: number) =>
      readImage(new Uint8Array(readFileSync(join(out, `board-${i}`, 'model.img'))));
    const t = image(0).tokenizer!;
    expect(t.vocabSize).toBe(512);
    for (let id = 0; id < 512; id++) expect(t.piece(id)).toEqual(tok512.piece(id));
    expect(t.encode('Lily went', { bos: true, eos: false })).toEqual(
      tok512.encode('Lily went', { bos: true, eos: false }),
    );
    expect(image(0).story).toMatchObject({ prompt: 'Lily went', steps: 120, seed: 42n, parallel: 1 });
    expect(image(0).story!.temperature).toBe(Math.fround(0.8));
    expect(image(1).story).toBeUndefined();
    // tinypipe image inspect shows board 0's story defaults as one of its checks
    const inspect = await runCapture(['image', 'inspect', join(out, 'board-0', 'model.img')]);
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(
      /^ok {3}story {18}story defaults: prompt "Lily went", 120 steps, temperature 0\.8, topp 0\.9, seed 42, 1 at once$/m,
    );
    expect(inspect.stdout).toMatch(/^story\.defaults +u8 /m);
    expect(image(1).tokenizer).toBeUndefined();
    expect(image(2).tokenizer).toBeUndefined();

    const sdk = (i: number) => readFileSync(join(out, `board-${i}`, 'sdkconfig.ring'), 'utf8');
    expect(sdk(0)).toContain('CONFIG_TINYPIPE_RING_DRIVER=y');
    // the story settings are in board 0's image; its overlay names them commented out (set, one would override it)
    expect(sdk(0)).toContain('\n# CONFIG_TINYPIPE_RING_PROMPT="Lily went"\n');
    expect(sdk(0)).toContain('\n# CONFIG_TINYPIPE_RING_TEMPERATURE="0.8"\n');
    expect(sdk(0)).toContain('\n# CONFIG_TINYPIPE_RING_SEED=42\n');
    expect(sdk(0)).not.toMatch(/^CONFIG_TINYPIPE_RING_(PROMPT|STEPS|TEMPERATURE|TOPP|SEED|PARALLEL)=/m);
    expect(sdk(1)).toContain('CONFIG_TINYPIPE_BOARD_INDEX=1');
    expect(sdk(1)).not.toContain('RING_DRIVER');
    expect(sdk(1)).toMatch(
      /sdkconfig\.defaults\.8mb;sdkconfig\.defaults\.quad-psram;sdkconfig\.defaults\.ring-next/,
    );

    const md = readFileSync(join(out, 'ring.md'), 'utf8');
    // board i's UART2 TX to board i+1's UART1 RX and back; the last board's to board 0
    for (const [i, j] of [
      [0, 1],
      [1, 2],
      [2, 0],
    ]) {
      expect(md).toContain(`| board ${i} GPIO15 (UART2 TX) | board ${j} GPIO18 (UART1 RX) |`);
      expect(md).toContain(`| board ${j} GPIO17 (UART1 TX) | board ${i} GPIO16 (UART2 RX) |`);
    }
    expect(md).toMatch(/GND/);
    expect(md).toContain('board-2/sdkconfig.ring');
  }, 60_000);

  it('refuses a plan whose classifier is split, and a ring the boards cannot hold says why', async () => {
    const split = join(tmp, 'split.json');
    const p = await runCapture([
      'plan',
      '--model',
      'synth:15M',
      '--boards',
      'esp32s3-n8r8,esp32s3-n8r8',
      '--out',
      split,
    ]);
    expect(p.code, p.stderr).toBe(0);
    expect(JSON.parse(readFileSync(split, 'utf8')).boards[0].vocab).not.toBeNull(); // split over both
    const b = await runCapture(['build', '--plan', split, '--out', join(tmp, 'nope'), '--standalone']);
    expect(b.code).not.toBe(0);
    expect(b.stderr).toMatch(
      /cannot run as a standalone ring: the last board does not hold the whole classifier/,
    );
    expect(b.stderr).toMatch(/tinypipe plan --standalone/);

    const r = await runCapture([
      'plan',
      '--model',
      'synth:15M',
      '--boards',
      'esp32s3-n8r8,esp32s3-n8r8',
      '--standalone',
    ]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(
      /as a standalone ring \(the whole classifier on the last board: the last board samples/,
    );
    expect(r.stderr).toMatch(/with the classifier split over boards it would fit, but not as a ring/);
  }, 60_000);
});
