/**
 * Flasher faults through virtual ESP32-S3 boards (tinypipe-board --pty --flash) on real PTYs: a board
 * killed mid-flash is reported within 1 s (during compression and the chunk MD5s, a long erase, a long MD5);
 * an interrupted large write resumes at the first chunk not in place, the board's own log showing which
 * chunks it was sent; a board's recorded MAC refuses swapped ports before any write; a port given twice
 * is refused before anything is touched; flash files start erased and are never resized.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { loadStub } from '../node/stub-file.js';
import { chunksOf, DEFAULT_CHUNK_BYTES } from './chunks.js';
import { type BoardImage, type FlashEvent, type FlashTarget, flashPlan } from './flash-plan.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-faults-'));
const running: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
  rmSync(tmp, { recursive: true, force: true });
});

const FLASH = 16 * 1048576;
const MODEL_AT = 0x100000;

/** `n` bytes of 4-bit noise: compresses to about half, slowly at level 9 (like quantized weights). */
function noise(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed | 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    b[i] = (x >>> 24) & 0x0f;
  }
  return b;
}

function image(board: number, bytes: number, seed = board + 1): BoardImage {
  return {
    board,
    chip: 'esp32s3',
    flashBytes: FLASH,
    regions: [{ name: 'model.img', offset: MODEL_AT, bytes: noise(bytes, seed) }],
  };
}

async function board(tag: string, extra: Parameters<typeof spawnPtyBoard>[1] = {}): Promise<PtyBoard> {
  const b = await spawnPtyBoard(undefined, { flash: join(tmp, `${tag}.flash`), flashSize: FLASH, ...extra });
  running.push(b);
  return b;
}

async function target(b: PtyBoard, img: BoardImage): Promise<FlashTarget> {
  return { image: img, port: b.path, transport: await openSerialPort(b.path) };
}

/** The FLASH_DEFL_BEGINs the board was sent, from its log: [offset, size]. */
const begins = (b: PtyBoard) =>
  [...b.log().matchAll(/flash: begin 0x([0-9a-f]+) size (\d+)/g)].map((m) => [
    Number.parseInt(m[1]!, 16),
    Number(m[2]),
  ]);

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Polls until `ready()` (the board's log says it is at the moment the test wants). */
async function until(ready: () => boolean, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; !ready(); await new Promise((r) => setTimeout(r, 5)))
    if (Date.now() > end) throw new Error('the moment never came');
}

describe('chunksOf', () => {
  it('cuts at multiples of the chunk size in flash addresses, never inside a 4 KiB sector', () => {
    expect(chunksOf(0x8000, 0xc00)).toEqual([{ offset: 0x8000, start: 0, size: 0xc00 }]);
    expect(chunksOf(0x30000, 0x50000, 0x40000)).toEqual([
      { offset: 0x30000, start: 0, size: 0x10000 },
      { offset: 0x40000, start: 0x10000, size: 0x40000 },
    ]);
    const cs = chunksOf(MODEL_AT + 0x1000, 3_000_001);
    expect(cs.reduce((n, c) => n + c.size, 0)).toBe(3_000_001);
    for (const c of cs.slice(1)) expect(c.offset % DEFAULT_CHUNK_BYTES).toBe(0);
    expect(() => chunksOf(0, 10, 0x1800)).toThrow(/not a positive multiple of the flash's 4096-byte sector/);
  });
});

describe('a board killed mid-flash is reported within 1 s', () => {
  /** Kills the board when `moment` says so; the failure's delay after the kill, and the failure. */
  async function killWhen(b: PtyBoard, img: BoardImage, moment: (e: FlashEvent) => Promise<void> | void) {
    let killedAt = 0;
    let failedAt = 0;
    const events: FlashEvent[] = [];
    const done = flashPlan([await target(b, img)], {
      onEvent: (e) => {
        events.push(e);
        if (e.kind === 'failed') failedAt = performance.now();
        if (e.kind === 'connected')
          void (async () => {
            await moment(e);
            killedAt = performance.now();
            await b.kill('SIGKILL');
          })();
      },
    });
    const [r] = await done;
    return { r: r!, afterKill: failedAt - killedAt, killedAt, events };
  }

  it('while the host compresses and checks chunks of an 8.6 MB region (it used to compress it all at once)', async () => {
    const b = await board('kill-compress');
    const { r, afterKill, killedAt } = await killWhen(
      b,
      image(0, 8_600_000),
      () => new Promise((res) => setTimeout(res, 300)),
    );
    expect(killedAt).toBeGreaterThan(0);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe('PORT_DISCONNECTED');
    expect(afterKill).toBeGreaterThanOrEqual(0);
    expect(afterKill).toBeLessThan(1000);
  }, 60_000);

  it('while the ROM erases before answering FLASH_DEFL_BEGIN (a long timeout pending)', async () => {
    // 40 s/MiB: each 256 KiB chunk's BEGIN takes 10 s to answer (its timeout allows esptool's 40 s/MB)
    const b = await board('kill-erase', { eraseUsPerMb: 40_000_000 });
    const { r, afterKill } = await killWhen(b, image(0, 600_000), () =>
      until(() => begins(b).length > 0).then(() => new Promise((res) => setTimeout(res, 200))),
    );
    expect(r.error?.code).toBe('PORT_DISCONNECTED');
    expect(afterKill).toBeLessThan(1000);
  }, 60_000);

  it('while the ROM computes the MD5 of an 8.6 MB region (a 69 s timeout pending)', async () => {
    // 4 s/MiB: the region's MD5 takes 33 s to answer
    const b = await board('kill-md5', { md5UsPerMb: 4_000_000 });
    const { r, afterKill } = await killWhen(
      b,
      image(0, 8_600_000),
      () => new Promise((res) => setTimeout(res, 300)),
    );
    expect(begins(b)).toEqual([]); // it was still computing the first MD5
    expect(r.error?.code).toBe('PORT_DISCONNECTED');
    expect(afterKill).toBeLessThan(1000);
  }, 60_000);
});

describe('an interrupted large write resumes without rewriting finished chunks', () => {
  // 4 MB of 4-bit noise: about 2,000 of the ROM's 1 KiB compressed blocks, 125 of the stub's 16 KiB; the
  // line drops halfway. The ROM's BEGIN announces the size rounded up to its blocks, the stub's the exact
  // size (docs/esp-rom.md).
  const loaders = [
    { name: 'the ROM', dropAfter: 1000, begun: (n: number) => Math.ceil(n / 0x400) * 0x400 },
    { name: "esptool-js's stub", dropAfter: 60, begun: (n: number) => n, stub: true },
  ];
  for (const loader of loaders)
    it(`through ${loader.name}: the re-run writes only from the interrupted chunk on, and the flash is byte-identical`, async () => {
      const stub = loader.stub ? await loadStub('esptool-js') : undefined;
      const tag = `resume-${loader.stub ? 'stub' : 'rom'}`;
      const img = image(0, 4_000_000);
      const region = img.regions[0]!;
      const chunks = chunksOf(region.offset, region.bytes.length);
      let b = await board(tag, { dropAfter: loader.dropAfter });
      let [r] = await flashPlan([await target(b, img)], { stub });
      expect(r!.error?.code).toMatch(/PORT_DISCONNECTED|TIMEOUT/);
      const interrupted = begins(b).length - 1; // the chunk being written when the line dropped
      expect(interrupted).toBeGreaterThan(2);
      expect(interrupted).toBeLessThan(chunks.length - 2);
      await b.kill();

      b = await board(tag);
      const events: FlashEvent[] = [];
      [r] = await flashPlan([await target(b, img)], { stub, onEvent: (e) => events.push(e) });
      expect(r!.error).toBeUndefined();
      const kept = chunks.slice(0, interrupted).reduce((n, c) => n + c.size, 0);
      expect(events.find((e) => e.kind === 'resumed')).toMatchObject({
        bytes: kept,
        total: region.bytes.length,
      });
      // the board was sent exactly the chunks from the interrupted one on
      expect(begins(b)).toEqual(chunks.slice(interrupted).map((c) => [c.offset, loader.begun(c.size)]));
      expect(r!.bytesWritten).toBe(region.bytes.length - kept);
      await b.kill();
      const flash = readFileSync(join(tmp, `${tag}.flash`));
      const want = new Uint8Array(FLASH).fill(0xff);
      want.set(region.bytes, region.offset);
      expect(flash.equals(want)).toBe(true);
    }, 120_000);
});

describe("the build's recorded MAC", () => {
  it('swapped ports are refused before any write (WRONG_BOARD, naming the other port); forgetMacs flashes them anew', async () => {
    const macs = ['7c:df:a1:00:00:0a', '7c:df:a1:00:00:0b'];
    const imgs = [image(0, 100_000), image(1, 100_000)];
    let list = await Promise.all(macs.map((mac, i) => board(`mac-${i}`, { mac })));
    let results = await flashPlan(await Promise.all(list.map((b, i) => target(b, imgs[i]!))));
    expect(results.map((r) => r.mac)).toEqual(macs);
    await Promise.all(list.map((b) => b.kill()));
    for (const [i, img] of imgs.entries()) img.mac = results[i]!.mac; // what rememberMac records
    const before = macs.map((_, i) => sha(join(tmp, `mac-${i}.flash`)));

    // the same two chips, their ports given the other way round; the images changed (a rebuild)
    const rebuilt = [image(0, 100_000, 7), image(1, 100_000, 8)].map((img, i) => ({
      ...img,
      mac: imgs[i]!.mac,
    }));
    list = await Promise.all(macs.map((mac, i) => board(`mac-${i}`, { mac })));
    const swapped = [await target(list[1]!, rebuilt[0]!), await target(list[0]!, rebuilt[1]!)];
    results = await flashPlan(swapped);
    expect(results.map((r) => r.error?.code)).toEqual(['WRONG_BOARD', 'WRONG_BOARD']);
    expect(results[0]!.error?.message).toBe(
      `${list[1]!.path} has the chip ${macs[1]}, but board 0's build was flashed to ${macs[0]}; nothing was written. ${macs[1]} is board 1's chip, and board 0's (${macs[0]}) may be on ${list[0]!.path}, given for board 1: the ports are swapped — give them in board order`,
    );
    await Promise.all(list.map((b) => b.kill()));
    expect(list.flatMap(begins)).toEqual([]);
    expect(macs.map((_, i) => sha(join(tmp, `mac-${i}.flash`)))).toEqual(before);

    // a board replaced on purpose: forgetMacs flashes whatever chip is there
    list = await Promise.all(macs.map((mac, i) => board(`mac-${i}`, { mac })));
    results = await flashPlan([await target(list[1]!, rebuilt[0]!), await target(list[0]!, rebuilt[1]!)], {
      forgetMacs: true,
    });
    expect(results.map((r) => [r.ok, r.mac])).toEqual([
      [true, macs[1]],
      [true, macs[0]],
    ]);
    await Promise.all(list.map((b) => b.kill()));
  }, 120_000);
});

describe('up-front refusals', () => {
  it('a port given twice: INVALID_ARGUMENT naming it and both boards, before any transport is touched', async () => {
    const untouchable = (): Transport => ({
      specificationVersion: 1,
      get readable(): ReadableStream<Uint8Array> {
        throw new Error('touched');
      },
      get writable(): WritableStream<Uint8Array> {
        throw new Error('touched');
      },
      close: async () => {
        throw new Error('touched');
      },
    });
    const imgs = [image(0, 10), image(1, 10), image(2, 10)];
    const targets = ['/dev/ttyA', '/dev/ttyB', '/dev/ttyA'].map((port, i) => ({
      image: imgs[i]!,
      port,
      transport: untouchable(),
    }));
    const e = await flashPlan(targets).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'INVALID_ARGUMENT')).toBe(true);
    expect((e as TinypipeError).message).toBe(
      '/dev/ttyA is given for board 0 and board 2: each board needs its own port',
    );
    // the same transport under two names (e.g. one Web Serial port picked twice)
    const one = untouchable();
    const again = await flashPlan([
      { image: imgs[0]!, port: 'board 0', transport: one },
      { image: imgs[1]!, port: 'board 1', transport: one },
    ]).catch((x: unknown) => x);
    expect(again).toMatchObject({
      code: 'INVALID_ARGUMENT',
      message:
        'board 1 (board 1) is given a transport another board already has: each board needs its own port',
    });
  });
});

describe('virtual flash files', () => {
  it('a new file reads erased (0xFF); a file of another size than --flash-size is refused, not resized', async () => {
    const path = join(tmp, 'sized.flash');
    const b = await spawnPtyBoard(undefined, { flash: path, flashSize: 256 * 1024 });
    running.push(b);
    await b.kill();
    const bytes = readFileSync(path);
    expect(bytes.length).toBe(256 * 1024);
    expect(bytes.every((x) => x === 0xff)).toBe(true);
    await expect(spawnPtyBoard(undefined, { flash: path, flashSize: 1048576 })).rejects.toThrow(
      `${path} is 262144 bytes but --flash-size is 1048576: give --flash-size 262144, or remove the file for a new (erased) flash`,
    );
    writeFileSync(path, new Uint8Array(300_000));
    await expect(spawnPtyBoard(undefined, { flash: path, flashSize: 256 * 1024 })).rejects.toThrow(
      /is 300000 bytes/,
    );
    expect(readFileSync(path).length).toBe(300_000); // untouched
    expect(existsSync(path)).toBe(true);
  });
});
