/**
 * The virtual ESP32-S3's tests' tools (test helper, not part of the package): docs/vectors/esp-rom.json,
 * raw SLIP and command packets written from Espressif's serial-protocol docs (nothing of @tinypipe/flasher),
 * and virtual chips (tinypipe-board --pty --flash) on their PTYs, stopped after the test file.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSerialPort, type SerialTransport } from '@tinypipe/transport-uart/node';
import { afterAll, expect } from 'vitest';
import { type PtyBoard, type PtyBoardOptions, spawnPtyBoard } from './pty-board.js';

export interface Step {
  send: string;
  expect: string[];
  note?: string;
}
export interface Scenario {
  name: string;
  loader: 'rom' | 'stub';
  steps: Step[];
}
export interface Vectors {
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
export const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../docs/vectors/esp-rom.json', import.meta.url)), 'utf8'),
) as Vectors;
export const OP = vectors.ops;

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
export const words = (...w: number[]) => {
  const b = Buffer.alloc(4 * w.length);
  for (const [i, x] of w.entries()) b.writeUInt32LE(x >>> 0, 4 * i);
  return new Uint8Array(b);
};

/** SLIP (serial-protocol.rst, "Low Level Protocol"): 0xC0 around the packet, 0xC0 → DB DC, 0xDB → DB DD. */
export function slip(packet: Uint8Array): Uint8Array {
  const out = [0xc0];
  for (const b of packet) out.push(...(b === 0xc0 ? [0xdb, 0xdc] : b === 0xdb ? [0xdb, 0xdd] : [b]));
  out.push(0xc0);
  return Uint8Array.from(out);
}

export const checksum = (data: Uint8Array) => data.reduce((x, b) => x ^ b, 0xef);

/** A command packet: direction 0, op, u16 size, u32 checksum, data. */
export function command(op: number, data: Uint8Array = new Uint8Array(0), check = 0): Uint8Array {
  const p = Buffer.alloc(8 + data.length);
  p.writeUInt8(op, 1);
  p.writeUInt16LE(data.length, 2);
  p.writeUInt32LE(check, 4);
  p.set(data, 8);
  return new Uint8Array(p);
}

/** A _DATA command: length, sequence, 0, 0, then the data, checksummed. */
export const dataCommand = (op: number, data: Uint8Array, seq = 0) =>
  command(op, new Uint8Array([...words(data.length, seq, 0, 0), ...data]), checksum(data));

/** SLIP frames from the board, in order. */
export class Frames {
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

export interface Chip {
  board: PtyBoard;
  flash: string;
  frames: Frames;
  send(packet: Uint8Array): Promise<void>;
  /** Sends, and returns the reply (one frame). */
  ask(packet: Uint8Array): Promise<Uint8Array | undefined>;
}

/**
 * Virtual chips for one test file: `chip(options)` starts one (a 16 MiB flash file in `tmp` unless given)
 * and opens its PTY; all are killed and `tmp` removed after the file's tests.
 */
export function virtualChips(): { tmp: string; chip(options?: PtyBoardOptions): Promise<Chip> } {
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
  return { tmp, chip };
}

/** The reply's status bytes, per loader: the ROM's 4 (status, error, 0, 0), the stub's 2 (error, 0). */
export const status = (reply: Uint8Array | undefined, size: 2 | 4) => hex(reply!.slice(reply!.length - size));

export async function waitForLog(board: PtyBoard, text: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!board.log().includes(text)) {
    if (Date.now() > end) throw new Error(`the board never logged "${text}":\n${board.log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const SYNC = command(OP.SYNC!, new Uint8Array([7, 7, 0x12, 0x20, ...new Array(32).fill(0x55)]));

/** Uploads a stand-in stub (16 bytes of code at the stub's IRAM address) and waits for OHAI. */
export async function startStub(c: Chip): Promise<void> {
  const code = new Uint8Array(16).fill(0x11);
  expect(status(await c.ask(command(OP.MEM_BEGIN!, words(16, 1, 0x1800, 0x40378000))), 4)).toBe('00000000');
  expect(status(await c.ask(dataCommand(OP.MEM_DATA!, code)), 4)).toBe('00000000');
  expect(status(await c.ask(command(OP.MEM_END!, words(0, 0x40378000))), 4)).toBe('00000000');
  expect(hex((await c.frames.next())!)).toBe(hex(new TextEncoder().encode('OHAI')));
}

export const attach = command(OP.SPI_ATTACH!, words(0, 0));
export const md5 = (data: Uint8Array) => createHash('md5').update(data).digest();
