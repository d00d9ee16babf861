/**
 * Espressif's own client, esptool-js 0.7.0 from npm, unmodified, against the virtual ESP32-S3
 * (tinypipe-board --pty --flash) through a Web-Serial-shaped port over `serialport`: the independent check
 * that the board behaves as the chip's ROM loader and esptool's flasher stub do.
 *
 * esptool-js 0.7.0 quirks, worked around here and never in the board: without a terminal it prints to the
 * console (a terminal collects its lines) and its Transport traces a few steps to it regardless (silenced
 * for the test); after('no_reset') with a stub crashes ('no_reset_stub' is the
 * stub's way to stay); its ROM-path MD5 reads the ROM's 32 ASCII hex characters as 32 raw bytes, and its ROM
 * path writes its stub-sized 16 KiB blocks and sends a 1-word SPI_ATTACH (the ROM flow below sets the block
 * size, attaches and checks the MD5 through esptool-js's own checkCommand instead).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantize, readCheckpoint } from '@tinypipe/core';
import { buildPlan, builtinProfile, planModel } from '@tinypipe/partitioner';
import { ESPLoader, type IEspLoaderTerminal, Transport } from 'esptool-js';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';
import { devkitAutoReset, WebSerialPort } from './web-serial-port.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-esptool-js-'));
const running: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
  rmSync(tmp, { recursive: true, force: true });
});

const FLASH_BYTES = 16 << 20;
const md5Hex = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

/** What `tinypipe build` makes for one N16R8 board running stories260K: the files flashed, at their offsets. */
function boardFiles(): { data: Uint8Array; address: number; name: string }[] {
  const checkpoint = readCheckpoint(
    new Uint8Array(readFileSync(fileURLToPath(new URL('../../../models/stories260K.bin', import.meta.url)))),
  );
  const plan = planModel({
    model: { name: 'stories260K', source: 'test', config: checkpoint.config, kind: 'q8', groupSize: 32 },
    boards: [builtinProfile('esp32s3-n16r8')],
    objective: 'throughput',
    splitClassifier: false,
  });
  const [build] = buildPlan(plan, quantize(checkpoint, { weights: 'q8' }));
  return build!.files.flatMap((f) =>
    f.offset === undefined ? [] : [{ data: f.bytes, address: f.offset, name: f.name }],
  );
}

/** A virtual chip on a Web-Serial-shaped port whose DTR/RTS drive the chip's EN and GPIO0 as a dev board's. */
async function connectable(tag: string) {
  const flash = join(tmp, `${tag}.flash`);
  const board = await spawnPtyBoard(undefined, { flash, flashSize: FLASH_BYTES });
  running.push(board);
  const port = new WebSerialPort(board.path, {
    modemLines: false, // a PTY has none: the lines go to the board as EN pulses
    onSignals: devkitAutoReset((mode) => board.reset(mode)),
  });
  const lines: string[] = [];
  const terminal: IEspLoaderTerminal = {
    clean: () => {},
    writeLine: (s) => lines.push(s),
    write: (s) => lines.push(s),
  };
  const transport = new Transport(port as never, false);
  return { board, flash, transport, lines, terminal };
}

/** The flash file as it must be: erased everywhere but the files. */
function expected(files: { data: Uint8Array; address: number }[]): Buffer {
  const want = Buffer.alloc(FLASH_BYTES, 0xff);
  for (const f of files) want.set(f.data, f.address);
  return want;
}

async function waitForLog(board: PtyBoard, text: string): Promise<void> {
  const end = Date.now() + 10_000;
  while (!board.log().includes(text)) {
    if (Date.now() > end) throw new Error(`the board never logged "${text}":\n${board.log()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('esptool-js 0.7.0, unmodified, on tinypipe-board --pty --flash', () => {
  // its Transport traces some steps to the console whatever its tracing flag says
  beforeEach(() => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('connects (dev-board reset into download mode), uploads its stub, switches baud, writes a 300 KB random file at 0x10000 and a tinypipe build compressed, verifies each MD5; the flash holds exactly those bytes and boots the model', async () => {
    const { board, flash, transport, lines, terminal } = await connectable('stub');
    const loader = new ESPLoader({ transport, baudrate: 921600, terminal });
    expect(await loader.main('default_reset')).toMatch(/^ESP32-S3/);
    expect(board.log()).toContain('EN pulse, GPIO0 low'); // its classic reset reached the chip's pins
    expect(lines).toContain('Stub running...');
    expect(loader.IS_STUB).toBe(true);

    const files = [
      { data: new Uint8Array(randomBytes(300_000)), address: 0x10000, name: 'random' },
      ...boardFiles(),
    ];
    await loader.writeFlash({
      fileArray: files.map(({ data, address }) => ({ data, address })),
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'detect', // its flash-ID read through the SPI registers, mapped by its size table
      eraseAll: false,
      compress: true,
      calculateMD5Hash: md5Hex,
    });
    await loader.after('no_reset_stub');
    await transport.disconnect();

    expect(lines).toContain('Detected flash size set to 16MB');
    expect(lines.filter((l) => l === 'Hash of data verified.')).toHaveLength(files.length);
    expect(readFileSync(flash).equals(expected(files))).toBe(true);
    expect(board.log()).toContain('stub running');

    board.reset('boot'); // the dev board's RESET button: the chip boots what esptool-js wrote
    await waitForLog(board, 'serving layers [0, 5)');
  });

  it("its ROM path (no stub): 0x400-byte blocks, 5-word FLASH_DEFL_BEGIN, the ROM's ASCII MD5; leaves by esptool's watchdog reset", async () => {
    const { board, flash, transport, terminal } = await connectable('rom');
    const loader = new ESPLoader({ transport, baudrate: 115200, terminal });
    await loader.detectChip('default_reset');
    expect(loader.chip.CHIP_NAME).toBe('ESP32-S3');
    expect(loader.IS_STUB).toBe(false);
    // the ROM refuses esptool-js's 1-word SPI_ATTACH (status 1, error 0x05): it takes a second word
    await expect(loader.flashSpiAttach(0)).rejects.toThrow(/status 1,5/);
    await loader.checkCommand('attach', 0x0d, new Uint8Array(8));
    loader.FLASH_WRITE_SIZE = 0x400; // the ROM's block size (esptool's FLASH_WRITE_SIZE for a ROM)

    const files = [{ data: new Uint8Array(randomBytes(40_000)), address: 0x10000 }];
    await loader.writeFlash({
      fileArray: files,
      flashMode: 'keep',
      flashFreq: 'keep',
      flashSize: 'keep',
      eraseAll: false,
      compress: true,
    });
    const size = new Uint8Array(new Uint32Array([0x10000, 40_000, 0, 0]).buffer);
    const ascii = await loader.checkCommand('md5', 0x13, size, 0, 32);
    expect(new TextDecoder().decode(ascii as Uint8Array)).toBe(md5Hex(files[0]!.data));
    expect(readFileSync(flash).equals(expected(files))).toBe(true);

    // esptool's watchdog reset (its S3 hard reset over USB-OTG), through esptool-js's writeReg
    await loader.writeReg(0x600080b0, 0x50d83aa1);
    await loader.writeReg(0x6000809c, 2000);
    await loader.writeReg(0x60008098, (1 << 31) | (5 << 28) | (1 << 8) | 2);
    await loader.writeReg(0x600080b0, 0);
    await transport.disconnect();
    await waitForLog(board, 'booting from flash');
  });
});
