/**
 * flashPlan against virtual ESP32-S3 boards (tinypipe-board --pty --flash, docs/esp-rom.md) over real
 * PTYs with Node's serialport — through the ROM loader, and through esptool-js's published stub (the
 * board cannot run Xtensa code: it answers as esptool's stub after MEM_END): parallel flashing, MD5 skip
 * on re-run, resume after an interruption, a corrupted block rewritten, each failure its own code while
 * the other boards finish, and the ROM's refusals reported with their codes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintHex, quantize, readCheckpoint } from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { buildPlan, builtinProfile, planModel } from '@tinypipe/partitioner';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { zlibSync } from 'fflate';
import { afterAll, describe, expect, it } from 'vitest';
import { EspLoader } from '../loader/loader.js';
import { loadStub } from '../node/stub-file.js';
import { chunksOf } from './chunks.js';
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

/** FLASH_DEFL_DATA blocks a region takes at this block size (one progress event each), chunk by chunk. */
function blocksOf(events: FlashEvent[], image: BoardImage, region: string, blockSize: number) {
  const sent = events.filter(
    (e) => e.kind === 'progress' && e.board === image.board && e.region === region,
  ).length;
  const r = image.regions.find((x) => x.name === region)!;
  const expected = chunksOf(r.offset, r.bytes.length).reduce(
    (n, c) =>
      n + Math.ceil(zlibSync(r.bytes.subarray(c.start, c.start + c.size), { level: 9 }).length / blockSize),
    0,
  );
  return { sent, expected };
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
      // a failure shows its code and message, not just `false`
      expect(results.map((r) => r.ok || `${r.error?.code}: ${r.error?.message}`)).toEqual(
        Array(n).fill(true),
      );
      for (const r of results) expect(r.written).toEqual(['partition-table.bin', 'model.img']);
      const connected = events.filter((e) => e.kind === 'connected');
      expect(connected.map((e) => [e.chip, e.loader, e.flashBytes, e.flashSizeKnown])).toEqual(
        Array(n).fill(['ESP32-S3', 'rom', 16 * 1048576, true]),
      );
      const blocks = blocksOf(events, imgs[0]!, 'model.img', 0x400); // the ROM's block size
      expect(blocks.sent).toBe(blocks.expected);
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

  it("through esptool-js's stub: uploaded, 16 KiB blocks, raw MD5; the boards boot; a re-run skips everything", async () => {
    const stub = await loadStub('esptool-js');
    const imgs = images(2);
    let list = await boards(2, 'stub');
    const events: FlashEvent[] = [];
    let results = await flashPlan(await targets(list, imgs), { stub, onEvent: (e) => events.push(e) });
    expect(results.map((r) => r.error?.message)).toEqual([undefined, undefined]);
    expect(events.filter((e) => e.kind === 'connected').map((e) => e.loader)).toEqual(['stub', 'stub']);
    const blocks = blocksOf(events, imgs[0]!, 'model.img', 0x4000); // the stub's
    expect(blocks.sent).toBe(blocks.expected);
    for (const b of list) {
      // FLASH_END 0 from the stub reboots the chip into the firmware, which answers the handshake
      const link = await ReliableLink.connect(await openSerialPort(b.path), {
        expect: { fingerprint: qm.fingerprint },
      });
      expect(b.log()).toMatch(/stub running[\s\S]*booting from flash/);
      await link.close();
    }
    await Promise.all(list.map((b) => b.kill()));
    list = await boards(2, 'stub');
    results = await flashPlan(await targets(list, imgs), { stub });
    expect(results.map((r) => [r.ok, r.bytesWritten, r.skipped])).toEqual(
      Array(2).fill([true, 0, ['partition-table.bin', 'model.img']]),
    );
    await Promise.all(list.map((b) => b.kill()));
  }, 120_000);
});

describe("the ROM's refusals are errors with their codes, never successes", () => {
  async function romLoader(tag: string, blockSize?: number) {
    const [board] = await boards(1, tag);
    const loader = new EspLoader(await openSerialPort(board!.path), board!.path, { blockSize });
    expect(await loader.sync()).toBe('rom');
    return { board: board!, loader };
  }

  it('a flash command before SPI_ATTACH: ROM error 0x06, and what to do', async () => {
    const { board, loader } = await romLoader('unattached');
    await expect(loader.md5(0x10000, 5000)).rejects.toMatchObject({
      code: 'FLASH_FAILED',
      message: expect.stringMatching(/SPI_FLASH_MD5 failed: ROM error 0x06 .*only after SPI_ATTACH/),
      details: expect.objectContaining({ kind: 'rom', error: 0x06 }),
    });
    await expect(loader.write(0x10000, new Uint8Array(5000).fill(7))).rejects.toMatchObject({
      message: expect.stringMatching(/FLASH_DEFL_BEGIN failed: ROM error 0x06/),
    });
    await loader.attachFlash();
    // nothing was written: the region is still erased
    expect(await loader.md5(0x10000, 5000)).toBe(
      createHash('md5').update(Buffer.alloc(5000, 0xff)).digest('hex'),
    );
    await loader.close();
    await board.kill();
  }, 60_000);

  it("blocks over the ROM's 0x400: ROM error 0x05, never taken as written", async () => {
    const { board, loader } = await romLoader('oversize', 0x4000);
    await loader.attachFlash();
    const data = Uint8Array.from({ length: 200_000 }, (_, i) => Math.imul(i, 2654435761) >>> 24);
    await expect(loader.write(0x10000, data)).rejects.toMatchObject({
      code: 'FLASH_FAILED',
      message: expect.stringMatching(
        /FLASH_DEFL_DATA failed: ROM error 0x05 .*16384-byte blocks are the stub's; the ROM takes 1024/,
      ),
    });
    expect(await loader.md5(0x10000, data.length)).not.toBe(createHash('md5').update(data).digest('hex'));
    await loader.close();
    await board.kill();
  }, 60_000);

  it("through flashPlan: each board's result carries the code", async () => {
    const imgs = images(2);
    const list = await boards(2, 'planrefused');
    const results = await flashPlan(await targets(list, imgs), { blockSize: 0x4000 });
    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.error?.message).toMatch(/ROM error 0x05/);
    }
    await Promise.all(list.map((b) => b.kill()));
  }, 60_000);
});
