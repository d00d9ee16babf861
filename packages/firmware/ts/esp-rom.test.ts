/**
 * The virtual ESP32-S3 download mode (tinypipe-board --pty --flash) against docs/vectors/esp-rom.json — what
 * the ROM loader and the flasher stub answer, written from Espressif's documentation and clients — and the
 * behaviours packets alone cannot show: erase time and erase order, a new flash file, the resets, the chip
 * options, READ_FLASH, the faults. Raw SLIP over the board's PTY; nothing of @tinypipe/flasher.
 */

import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSerialPort, type SerialTransport } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { type PtyBoard, type PtyBoardOptions, spawnPtyBoard } from './pty-board.js';

interface Step {
  send: string;
  expect: string[];
  note?: string;
}
interface Scenario {
  name: string;
  loader: 'rom' | 'stub';
  steps: Step[];
}
interface Vectors {
  slip: { examples: { packet: string; framed: string }[] };
  command: { checksum: { examples: { data: string; checksum: number }[] } };
  ops: Record<string, number>;
  flashId: {
    registers: Record<string, number>;
    sizes: Record<string, number>;
    boardFlashId: Record<string, number>;
  };
  reset: { watchdogReset: [number, number][]; OPTION1: number; FORCE_DOWNLOAD_BOOT: number };
  scenarios: Scenario[];
  /** @tinypipe/flasher's own scenarios (how it leaves the loader), in the same form */
  flasher?: { scenarios: Scenario[] };
}
const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../docs/vectors/esp-rom.json', import.meta.url)), 'utf8'),
) as Vectors;
const OP = vectors.ops;

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-esp-rom-'));
const running: { board: PtyBoard; port: SerialTransport }[] = [];
afterAll(async () => {
  await Promise.all(
    running.map(async (c) => {
      await c.port.close();
      await c.board.kill('SIGKILL');
    }),
  );
  rmSync(tmp, { recursive: true, force: true });
});

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const words = (...w: number[]) => {
  const b = Buffer.alloc(4 * w.length);
  for (const [i, x] of w.entries()) b.writeUInt32LE(x >>> 0, 4 * i);
  return new Uint8Array(b);
};

/** SLIP (serial-protocol.rst, "Low Level Protocol"): 0xC0 around the packet, 0xC0 → DB DC, 0xDB → DB DD. */
function slip(packet: Uint8Array): Uint8Array {
  const out = [0xc0];
  for (const b of packet) out.push(...(b === 0xc0 ? [0xdb, 0xdc] : b === 0xdb ? [0xdb, 0xdd] : [b]));
  out.push(0xc0);
  return Uint8Array.from(out);
}

const checksum = (data: Uint8Array) => data.reduce((x, b) => x ^ b, 0xef);

/** A command packet: direction 0, op, u16 size, u32 checksum, data. */
function command(op: number, data: Uint8Array = new Uint8Array(0), check = 0): Uint8Array {
  const p = Buffer.alloc(8 + data.length);
  p.writeUInt8(op, 1);
  p.writeUInt16LE(data.length, 2);
  p.writeUInt32LE(check, 4);
  p.set(data, 8);
  return new Uint8Array(p);
}

/** A _DATA command: length, sequence, 0, 0, then the data, checksummed. */
const dataCommand = (op: number, data: Uint8Array, seq = 0) =>
  command(op, new Uint8Array([...words(data.length, seq, 0, 0), ...data]), checksum(data));

/** SLIP frames from the board, in order. */
class Frames {
  private readonly frames: Uint8Array[] = [];
  private current: number[] | undefined;
  private escape = false;
  private wake: (() => void) | undefined;

  constructor(readable: ReadableStream<Uint8Array>) {
    void this.pump(readable.getReader());
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>) {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }));
      if (r.done) return;
      for (const b of r.value) this.feed(b);
      this.wake?.();
    }
  }

  private feed(b: number) {
    if (b === 0xc0) {
      if (this.current?.length) this.frames.push(Uint8Array.from(this.current));
      this.current = [];
    } else if (!this.current) {
      // bytes outside a frame: nothing the loaders send
    } else if (this.escape) {
      this.current.push(b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : b);
      this.escape = false;
    } else if (b === 0xdb) this.escape = true;
    else this.current.push(b);
  }

  async next(ms = 3000): Promise<Uint8Array | undefined> {
    const end = Date.now() + ms;
    while (this.frames.length === 0) {
      const left = end - Date.now();
      if (left <= 0) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    return this.frames.shift();
  }
}

interface Chip {
  board: PtyBoard;
  flash: string;
  frames: Frames;
  send(packet: Uint8Array): Promise<void>;
  /** Sends, and returns the reply (one frame). */
  ask(packet: Uint8Array): Promise<Uint8Array | undefined>;
}

let chips = 0;
async function chip(options: PtyBoardOptions = {}): Promise<Chip> {
  const flash = options.flash ?? join(tmp, `chip-${chips++}.flash`);
  const board = await spawnPtyBoard(undefined, { flashSize: 16 << 20, ...options, flash });
  const port = await openSerialPort(board.path);
  running.push({ board, port });
  const frames = new Frames(port.readable);
  const writer = port.writable.getWriter();
  const send = (packet: Uint8Array) => writer.write(slip(packet));
  const ask = async (p: Uint8Array) => {
    await send(p);
    return frames.next();
  };
  return { board, flash, frames, send, ask };
}

/** The reply's status bytes, per loader: the ROM's 4 (status, error, 0, 0), the stub's 2 (error, 0). */
const status = (reply: Uint8Array | undefined, size: 2 | 4) => hex(reply!.slice(reply!.length - size));

async function waitForLog(board: PtyBoard, text: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!board.log().includes(text)) {
    if (Date.now() > end) throw new Error(`the board never logged "${text}":\n${board.log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const SYNC = command(OP.SYNC!, new Uint8Array([7, 7, 0x12, 0x20, ...new Array(32).fill(0x55)]));

/** Uploads a stand-in stub (16 bytes of code at the stub's IRAM address) and waits for OHAI. */
async function startStub(c: Chip): Promise<void> {
  const code = new Uint8Array(16).fill(0x11);
  expect(status(await c.ask(command(OP.MEM_BEGIN!, words(16, 1, 0x1800, 0x40378000))), 4)).toBe('00000000');
  expect(status(await c.ask(dataCommand(OP.MEM_DATA!, code)), 4)).toBe('00000000');
  expect(status(await c.ask(command(OP.MEM_END!, words(0, 0x40378000))), 4)).toBe('00000000');
  expect(hex((await c.frames.next())!)).toBe(hex(new TextEncoder().encode('OHAI')));
}

const attach = command(OP.SPI_ATTACH!, words(0, 0));
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest();

describe('the test helpers follow the vectors', () => {
  it('SLIP framing and the 0xEF-seeded XOR checksum', () => {
    for (const e of vectors.slip.examples) expect(hex(slip(bytes(e.packet)))).toBe(e.framed);
    for (const e of vectors.command.checksum.examples) expect(checksum(bytes(e.data))).toBe(e.checksum);
  });
});

describe('docs/vectors/esp-rom.json on tinypipe-board --pty --flash', () => {
  for (const scenario of [...vectors.scenarios, ...(vectors.flasher?.scenarios ?? [])]) {
    it(`${scenario.loader}: ${scenario.name}`, async () => {
      const c = await chip();
      for (const [i, step] of scenario.steps.entries()) {
        await c.send(bytes(step.send));
        for (const want of step.expect) {
          const got = await c.frames.next();
          expect(got && hex(got), `step ${i}${step.note ? ` (${step.note})` : ''}`).toBe(want);
        }
      }
      expect(await c.frames.next(150), 'nothing more than the vectors list').toBeUndefined();
    });
  }
});

describe('the flash', () => {
  it('a new flash file reads erased (0xFF); one of another size is refused and left as it was (a chip never changes size)', async () => {
    const fresh = await chip({ flashSize: 1 << 20 });
    expect(readFileSync(fresh.flash).every((b) => b === 0xff)).toBe(true);
    const old = join(tmp, 'short.flash');
    writeFileSync(old, Buffer.alloc(4096, 0x00));
    await expect(chip({ flash: old, flashSize: 1 << 20 })).rejects.toThrow(
      `FLASH: ${old} is 4096 bytes but --flash-size is 1048576: give --flash-size 4096, or remove the file for a new (erased) flash`,
    );
    expect(readFileSync(old).equals(Buffer.alloc(4096, 0x00))).toBe(true);
  });

  it('the ROM erases at BEGIN, before it answers, in time proportional to the size (--erase-us-per-mb)', async () => {
    const c = await chip({ eraseUsPerMb: 400_000 });
    await c.ask(attach);
    const timed = async (size: number) => {
      const t = performance.now();
      expect(
        status(await c.ask(command(OP.FLASH_BEGIN!, words(size, size / 0x400, 0x400, 0x100000, 0))), 4),
      ).toBe('00000000');
      return performance.now() - t;
    };
    // no wall-clock ceiling (a loaded machine makes anything slower, never faster): 1 MiB at 0.4 s/MiB
    // takes its 400 ms, 64 KiB its 25 ms, and the small erase is not a fixed cost as long as the large one
    const mib = await timed(0x100000);
    const small = await timed(0x10000);
    expect(mib).toBeGreaterThan(380);
    expect(small).toBeGreaterThan(23);
    expect(small).toBeLessThan(mib / 2);
  });

  it('NOR programming ANDs: the ROM erased all three sectors at BEGIN, the stub only those the data reached', async () => {
    for (const loader of ['rom', 'stub'] as const) {
      const flash = join(tmp, `zeros-${loader}.flash`);
      writeFileSync(flash, Buffer.alloc(1 << 20, 0x00)); // programmed all over: only an erase brings back 0xFF
      const c = await chip({ flash, flashSize: 1 << 20 });
      if (loader === 'rom') await c.ask(attach);
      else await startStub(c);
      const block = new Uint8Array(0x400).fill(0xab);
      const begin =
        loader === 'rom' ? words(0x3000, 12, 0x400, 0x20000, 0) : words(0x3000, 1, 0x4000, 0x20000);
      const ok = loader === 'rom' ? '00000000' : '0000';
      expect(status(await c.ask(command(OP.FLASH_BEGIN!, begin)), loader === 'rom' ? 4 : 2)).toBe(ok);
      expect(status(await c.ask(dataCommand(OP.FLASH_DATA!, block)), loader === 'rom' ? 4 : 2)).toBe(ok);
      const f = readFileSync(flash);
      const all = (from: number, to: number, v: number) => f.subarray(from, to).every((x) => x === v);
      expect(all(0x20000, 0x20400, 0xab)).toBe(true);
      expect(all(0x20400, 0x21000, 0xff)).toBe(true); // both erased the first sector
      expect(all(0x21000, 0x23000, loader === 'rom' ? 0xff : 0x00)).toBe(true);
    }
  });
});

describe('resets: how the virtual chip leaves download mode (docs/esp-rom.md "Leaving download mode")', () => {
  it('ROM: FLASH_END (either word) leaves the loader and boots from flash', async () => {
    const c = await chip();
    await c.ask(attach);
    expect(status(await c.ask(command(OP.FLASH_END!, words(1))), 4)).toBe('00000000');
    await waitForLog(c.board, 'booting from flash');
  });

  it('stub: FLASH_DEFL_END(1) stays in the stub; FLASH_END(0) reboots into the firmware', async () => {
    const c = await chip();
    await startStub(c);
    expect(status(await c.ask(command(OP.FLASH_DEFL_BEGIN!, words(0, 0, 0x4000, 0x10000))), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.FLASH_DEFL_END!, words(1))), 2)).toBe('0000');
    expect((await c.ask(SYNC))!.subarray(4, 8)).toEqual(words(0)); // still the stub: value 0
    for (let i = 0; i < 7; i++) await c.frames.next();
    expect(status(await c.ask(command(OP.FLASH_BEGIN!, words(0, 0, 0x4000, 0x10000))), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.FLASH_END!, words(0))), 2)).toBe('0000');
    await waitForLog(c.board, 'booting from flash');
  });

  it('stub: RUN_USER_CODE boots without a reply', async () => {
    const c = await chip();
    await startStub(c);
    await c.send(command(OP.RUN_USER_CODE!));
    await waitForLog(c.board, 'booting from flash');
    expect(await c.frames.next(100)).toBeUndefined();
  });

  const writeReg = (addr: number, value: number, mask = 0xffffffff) =>
    command(OP.WRITE_REG!, words(addr, value, mask, 0));

  it("esptool's RTC-watchdog reset: every write answered, then the chip resets into its firmware", async () => {
    for (const stub of [false, true]) {
      const c = await chip();
      if (stub) await startStub(c);
      for (const [addr, value] of vectors.reset.watchdogReset)
        expect(status(await c.ask(writeReg(addr, value)), stub ? 2 : 4)).toMatch(/^0+$/);
      await waitForLog(c.board, 'booting from flash');
    }
  });

  it('the watchdog reset with USB force-download set (RTC_CNTL_OPTION1 bit 0) restarts the ROM loader instead', async () => {
    const c = await chip();
    await startStub(c);
    await c.ask(
      writeReg(vectors.reset.OPTION1, vectors.reset.FORCE_DOWNLOAD_BOOT, vectors.reset.FORCE_DOWNLOAD_BOOT),
    );
    for (const [addr, value] of vectors.reset.watchdogReset) await c.ask(writeReg(addr, value));
    await new Promise((r) => setTimeout(r, 100)); // 2000 slow-clock cycles ≈ 15 ms
    const reply = await c.ask(SYNC);
    expect(reply!.subarray(4, 8)).not.toEqual(words(0)); // the ROM again: a non-zero SYNC value…
    expect(status(reply, 4)).toBe('00000000'); // …and its 4-byte status
    expect(c.board.log()).not.toContain('booting from flash');
  });

  it('EN pulses (no modem lines on a PTY: SIGUSR2 / SIGUSR1): GPIO0 low restarts the ROM, high boots', async () => {
    const c = await chip();
    await startStub(c);
    c.board.reset('download');
    await new Promise((r) => setTimeout(r, 100));
    const reply = await c.ask(SYNC);
    expect(status(reply, 4)).toBe('00000000');
    for (let i = 0; i < 7; i++) await c.frames.next();
    c.board.reset('boot');
    await waitForLog(c.board, 'booting from flash');
  });
});

describe('chip options and stub extras', () => {
  it('--chip-id and --mac reach GET_SECURITY_INFO, the chip-detect magic and the eFuse MAC words', async () => {
    const c = await chip({ chipId: 2, mac: '12:34:56:78:9a:bc' });
    const info = (await c.ask(command(OP.GET_SECURITY_INFO!)))!;
    expect(Buffer.from(info).readUInt32LE(8 + 12)).toBe(2);
    const reg = async (addr: number) =>
      Buffer.from((await c.ask(command(OP.READ_REG!, words(addr))))!).readUInt32LE(4);
    expect(await reg(0x40001000)).toBe(0x7c6); // the ESP32-S2's magic
    expect(await reg(0x60007044)).toBe(0x56789abc);
    expect(await reg(0x60007048)).toBe(0x1234);
  });

  it("the JEDEC capacity byte follows --flash-size through esptool's size table", async () => {
    const regs = vectors.flashId.registers;
    for (const size of [256 << 10, 4 << 20, 16 << 20]) {
      const c = await chip({ flashSize: size });
      for (const [addr, value] of [
        [regs.MISO_DLEN!, 23],
        [regs.USR!, 0x90000000],
        [regs.USR2!, 0x7000009f],
        [regs.W0!, 0],
        [regs.CMD!, 1 << 18],
      ] as const)
        await c.ask(command(OP.WRITE_REG!, words(addr, value, 0xffffffff, 0)));
      const id = Buffer.from((await c.ask(command(OP.READ_REG!, words(regs.W0!))))!).readUInt32LE(4);
      expect(vectors.flashId.sizes[`0x${((id >> 16) & 0xff).toString(16)}`]).toBe(size);
      if (vectors.flashId.boardFlashId[String(size)])
        expect(id).toBe(vectors.flashId.boardFlashId[String(size)]);
    }
  });

  it('a --flash-size outside the table is refused at start', async () => {
    await expect(
      spawnPtyBoard(undefined, { flash: join(tmp, 'odd.flash'), flashSize: 3 << 20 }),
    ).rejects.toThrow(/power of two/);
  });

  it('stub READ_FLASH: the reply, packets each acknowledged with the total, then the MD5 of it all', async () => {
    const c = await chip();
    await startStub(c);
    const content = new Uint8Array(6000).map((_, i) => (i * 7) & 0xff);
    await c.ask(command(OP.FLASH_BEGIN!, words(content.length, 1, 0x4000, 0x30000)));
    expect(status(await c.ask(dataCommand(OP.FLASH_DATA!, content)), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.READ_FLASH!, words(0x30000, 6000, 4096, 64))), 2)).toBe('0000');
    const first = (await c.frames.next())!;
    expect(first.length).toBe(4096);
    await c.send(words(4096));
    const second = (await c.frames.next())!;
    await c.send(words(6000));
    expect(hex(new Uint8Array([...first, ...second]))).toBe(hex(content));
    expect(hex((await c.frames.next())!)).toBe(hex(md5(content)));
  });

  it('faults: --corrupt-block flips a bit of that block in flash; --drop-after ends the board mid-write', async () => {
    const c = await chip({ corruptBlock: 1 });
    await startStub(c);
    const block = new Uint8Array(0x4000).fill(0x5a);
    await c.ask(command(OP.FLASH_BEGIN!, words(0x8000, 2, 0x4000, 0x40000)));
    await c.ask(dataCommand(OP.FLASH_DATA!, block, 0));
    await c.ask(dataCommand(OP.FLASH_DATA!, block, 1));
    const f = readFileSync(c.flash);
    expect(f.subarray(0x40000, 0x44000).every((b) => b === 0x5a)).toBe(true);
    expect(f[0x44000]).toBe(0x5a ^ 1);

    const d = await chip({ dropAfter: 1 });
    await startStub(d);
    await d.ask(command(OP.FLASH_BEGIN!, words(0x8000, 2, 0x4000, 0x40000)));
    expect(status(await d.ask(dataCommand(OP.FLASH_DATA!, block, 0)), 2)).toBe('0000');
    const exited = new Promise<void>((resolve) => d.board.process.once('exit', () => resolve()));
    await d.send(dataCommand(OP.FLASH_DATA!, block, 1));
    await exited;
    expect(d.board.process.exitCode).toBe(3);
  });
});
