/**
 * flashPlan against virtual ESP32-S3 boards (tinypipe-board --pty --flash) over real PTYs with Node's
 * serialport: parallel flashing, MD5 skip on re-run, resume after an interruption, a corrupted block
 * rewritten, and each failure its own code while the other boards finish.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintHex, quantize, readCheckpoint } from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { buildPlan, builtinProfile, planModel } from '@tinypipe/partitioner';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { type BoardImage, boardImage, type FlashEvent, flashPlan } from './flash-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-flash-'));
const running: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
  rmSync(tmp, { recursive: true, force: true });
});

const checkpoint = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url)))),
);
const qm = quantize(checkpoint, { weights: 'q8' });

/** A plan of stories260K over n N16R8 boards, as the regions flashPlan writes. */
function images(n: number): BoardImage[] {
  const plan = planModel({
    model: { name: 'stories260K', source: 'test', config: checkpoint.config, kind: 'q8', groupSize: 32 },
    boards: Array.from({ length: n }, () => builtinProfile('esp32s3-n16r8')),
    objective: 'throughput',
    splitClassifier: false,
  });
  return buildPlan(plan, qm).map(boardImage);
}

async function boards(
  n: number,
  tag: string,
  extra: Parameters<typeof spawnPtyBoard>[1][] = [],
): Promise<PtyBoard[]> {
  const list = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      spawnPtyBoard(undefined, {
        flash: join(tmp, `${tag}-${i}.flash`),
        flashSize: 16 * 1048576,
        board: i,
        ...extra[i],
      }),
    ),
  );
  running.push(...list);
  return list;
}

async function targets(list: PtyBoard[], imgs: BoardImage[]) {
  return Promise.all(
    list.map(async (b, i) => ({ image: imgs[i]!, port: b.path, transport: await openSerialPort(b.path) })),
  );
}

describe('boardImage', () => {
  it('keeps the flashed files of a build, by offset (the partition table before the model), and drops the CSV', () => {
    const [image] = images(1);
    expect(image!.regions.map((r) => [r.name, r.offset])).toEqual([
      ['partition-table.bin', 0x8000],
      ['model.img', image!.regions[1]!.offset],
    ]);
    expect(image!.regions[1]!.offset).toBeGreaterThan(0x8000);
    expect(image).toMatchObject({ board: 0, chip: 'esp32s3', flashBytes: 16 * 1048576 });
  });
});

describe('flashPlan on virtual ESP32-S3 boards', () => {
  for (const n of [1, 2, 4]) {
    it(`${n} board(s): flashes and verifies in parallel; the boards boot and answer the handshake`, async () => {
      const imgs = images(n);
      const list = await boards(n, `ok${n}`);
      const events: FlashEvent[] = [];
      const results = await flashPlan(await targets(list, imgs), { onEvent: (e) => events.push(e) });
      console.log(
        'DEBUG',
        results.map((r) => r.error?.message),
        list[0]!.log(),
      );
      expect(results.map((r) => r.ok)).toEqual(Array(n).fill(true));
      for (const r of results) expect(r.written).toEqual(['partition-table.bin', 'model.img']);
      expect(events.filter((e) => e.kind === 'connected').map((e) => (e as { chip: string }).chip)).toEqual(
        Array(n).fill('ESP32-S3'),
      );
      expect(events.some((e) => e.kind === 'progress')).toBe(true);
      // rebooted into the firmware: each answers HELLO with the plan's fingerprint and its layers
      const plan = planModel({
        model: { name: 'stories260K', source: 'test', config: checkpoint.config, kind: 'q8', groupSize: 32 },
        boards: Array.from({ length: n }, () => builtinProfile('esp32s3-n16r8')),
        objective: 'throughput',
        splitClassifier: false,
      });
      for (const [i, b] of list.entries()) {
        const link = await ReliableLink.connect(await openSerialPort(b.path), {
          expect: { fingerprint: qm.fingerprint, layers: plan.boards[i]!.layers as [number, number] },
        });
        expect(link.peer && fingerprintHex(link.peer.fingerprint!)).toBe(fingerprintHex(qm.fingerprint));
        await link.close();
      }
      await Promise.all(list.map((b) => b.kill()));
    }, 120_000);
  }

  it('re-running flashes nothing; after an interruption mid-write a re-run completes', async () => {
    const imgs = images(2);
    // board 1's line drops after 2 data blocks
    let list = await boards(2, 'resume', [{}, { dropAfter: 2 }]);
    let results = await flashPlan(await targets(list, imgs));
    expect(results[0]!.ok).toBe(true);
    expect(results[1]!.ok).toBe(false);
    expect(results[1]!.error?.code).toMatch(/PORT_DISCONNECTED|TIMEOUT/);
    await Promise.all(list.map((b) => b.kill()));
    // power-cycle both (same flash files), run again: board 0 skips everything, board 1 finishes
    list = await boards(2, 'resume');
    results = await flashPlan(await targets(list, imgs));
    expect(results.map((r) => r.ok)).toEqual([true, true]);
    expect(results[0]!.skipped).toEqual(['partition-table.bin', 'model.img']);
    expect(results[0]!.bytesWritten).toBe(0);
    expect(results[1]!.written).toContain('model.img');
    await Promise.all(list.map((b) => b.kill()));
  }, 120_000);

  it('a block corrupted in flash is caught by MD5 and rewritten', async () => {
    const imgs = images(1);
    const list = await boards(1, 'corrupt', [{ corruptBlock: 1 }]);
    const events: FlashEvent[] = [];
    const [r] = await flashPlan(await targets(list, imgs), { onEvent: (e) => events.push(e) });
    expect(r!.ok).toBe(true);
    expect(events.some((e) => e.kind === 'rewrite')).toBe(true);
    await list[0]!.kill();
  }, 60_000);

  it('wrong chip and too small a flash get their own codes; the other boards are flashed', async () => {
    const imgs = images(3);
    const list = await Promise.all([
      spawnPtyBoard(undefined, { flash: join(tmp, 'mix-0.flash'), flashSize: 16 * 1048576 }),
      spawnPtyBoard(undefined, { flash: join(tmp, 'mix-1.flash'), flashSize: 16 * 1048576, chipId: 2 }),
      spawnPtyBoard(undefined, { flash: join(tmp, 'mix-2.flash'), flashSize: 4 * 1048576 }),
    ]);
    running.push(...list);
    const results = await flashPlan(await targets(list, imgs));
    expect(results[0]!.ok).toBe(true);
    expect(results[1]!.error?.code).toBe('WRONG_CHIP');
    expect(results[1]!.error?.message).toMatch(new RegExp(`${list[1]!.path} has an ESP32-S2`));
    expect(results[2]!.error?.code).toBe('FLASH_TOO_SMALL');
    expect(results[2]!.error?.message).toMatch(/has 4 MiB of flash; board 2's profile needs 16 MiB/);
    await Promise.all(list.map((b) => b.kill()));
  }, 60_000);
});
