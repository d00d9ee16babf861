/**
 * `EspLoader`: one ESP serial bootloader session over any `Transport`, speaking whichever loader answers
 * — the chip's ROM or the flasher stub — in that loader's own form (esptool docs "Serial Protocol"):
 *
 *   |                         | ROM (`kind` 'rom')                  | stub (`kind` 'stub')             |
 *   | SYNC value              | non-zero                            | 0                                |
 *   | status bytes            | 4, status first                     | 2                                |
 *   | SPI_FLASH_MD5           | 32 ASCII hex characters             | 16 raw bytes                     |
 *   | before flash commands   | SPI_ATTACH (2 words) required       | optional (esptool skips it)      |
 *   | FLASH_DEFL_DATA block   | 0x400                               | 0x4000                           |
 *   | FLASH_DEFL_BEGIN        | 5 words, size rounded, erases first | 4 words, exact size              |
 *   | CHANGE_BAUDRATE word 2  | 0                                   | the current rate                 |
 *
 * Every command is awaited with a timeout (scaled by size where the loader works before answering); a
 * non-zero status is a FLASH_FAILED naming the loader's error code. The payload layouts live in
 * `../protocol/layouts.ts`, the register procedures in `../chip/`, the packet layer (framing, one command at a
 * time, timeouts, the line lost) in `./link.ts`.
 */
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { zlibSync } from 'fflate';
import { flashSizeFromId, readFlashId } from '../chip/flash-id.js';
import {
  CHIP_MAGIC,
  CHIP_MAGIC_REG,
  clearForceDownloadBoot,
  disableWatchdogs,
  type Registers,
  readMac,
} from '../chip/registers.js';
import { blockInflationBounds } from '../deflate/deflate.js';
import { checksum, Op, SYNC_DATA, u32s } from '../protocol/commands.js';
import {
  BLOCK_SIZE,
  changeBaudrate,
  dataPacket,
  deflBegin,
  flashBeginEmpty,
  flashEnd,
  md5Request,
  memBegin,
  memEnd,
  parseMd5,
  RAM_BLOCK,
  spiAttach,
  spiSetParams,
} from '../protocol/layouts.js';
import type { LoaderKind } from '../protocol/status.js';
import {
  beginTimeout,
  blockTimeout,
  DEFAULT_TIMEOUT_MS,
  MEM_END_ROM_TIMEOUT_MS,
  md5Timeout,
  SYNC_TIMEOUT_MS,
} from '../protocol/timing.js';
import type { StubImage } from '../stub/stub.js';
import { LoaderLink, type Reply } from './link.js';
import { canReset, hardReset, type ResetWiring } from './reset.js';

export type { Reply } from './link.js';

export const CHIP_NAMES: Readonly<Record<number, string>> = {
  0: 'ESP32',
  2: 'ESP32-S2',
  5: 'ESP32-C3',
  9: 'ESP32-S3',
  12: 'ESP32-C2',
  13: 'ESP32-C6',
  18: 'ESP32-P4',
};

/** Commands the ROM refuses before SPI_ATTACH. */
const FLASH_OPS = new Set<number>([
  Op.FLASH_BEGIN,
  Op.FLASH_DATA,
  Op.FLASH_END,
  Op.FLASH_DEFL_BEGIN,
  Op.FLASH_DEFL_DATA,
  Op.FLASH_DEFL_END,
  Op.SPI_FLASH_MD5,
]);

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface LoaderOptions {
  /** The ordinary command timeout and the floor of the scaled ones (ms). Default 3000 (esptool's). */
  timeoutMs?: number;
  /** FLASH_DEFL_DATA block size; default the loader's own (0x400 ROM, 0x4000 stub). For tests and experts. */
  blockSize?: number;
}

export class EspLoader implements Registers {
  readonly #transport: Transport;
  readonly #port: string;
  readonly #link: LoaderLink;
  readonly #timeoutMs: number;
  readonly #blockSize: number | undefined;
  /** SPI_ATTACH sent (the ROM refuses flash commands before it). */
  attached = false;

  constructor(transport: Transport, port: string, options: LoaderOptions = {}) {
    this.#transport = transport;
    this.#port = port;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#blockSize = options.blockSize;
    this.#link = new LoaderLink(transport, port, (op, kind, code) => this.#hint(op, kind, code));
  }

  /** Who answers: 'rom' until SYNC says a stub runs or `runStub` starts one. */
  get kind(): LoaderKind {
    return this.#link.kind;
  }

  set kind(kind: LoaderKind) {
    this.#link.kind = kind;
  }

  /** FLASH_DEFL_DATA block size in use. */
  get blockSize(): number {
    return this.#blockSize ?? BLOCK_SIZE[this.kind];
  }

  /** Sends one command and waits for its answer; FLASH_FAILED, naming the loader's error code, when it says no. */
  command(op: number, data: Uint8Array, check = 0, timeoutMs = this.#timeoutMs): Promise<Reply> {
    return this.#link.command(op, data, check, timeoutMs);
  }

  /** What to do about the refusals a flasher can cause itself (the ROM's 0x05 / 0x06). */
  #hint(op: number, kind: LoaderKind, code: number): string {
    if (kind !== 'rom' || (code !== 0x05 && code !== 0x06)) return '';
    if (op === Op.ERASE_REGION) return ': ERASE_REGION is a stub command; the ROM erases on FLASH_DEFL_BEGIN';
    if (!this.attached && FLASH_OPS.has(op)) return ': the ROM takes flash commands only after SPI_ATTACH';
    if (op === Op.FLASH_DEFL_DATA && this.blockSize > BLOCK_SIZE.rom)
      return `: ${this.blockSize}-byte blocks are the stub's; the ROM takes ${BLOCK_SIZE.rom}`;
    return '';
  }

  /**
   * SYNC until a loader answers (the chip must be in download mode). Both loaders answer 8 times; the ROM
   * with a non-zero value, the stub with 0 (esptool `sync`): that decides `kind`.
   */
  async sync(attempts = 10): Promise<LoaderKind> {
    for (let i = 0; i < attempts; i++) {
      try {
        const answers = await this.#link.exchange(Op.SYNC, SYNC_DATA, 0, SYNC_TIMEOUT_MS, 8);
        this.kind = answers.every((a) => a.value === 0) ? 'stub' : 'rom';
        return this.kind;
      } catch (e) {
        if (!TinypipeError.hasCode(e, 'TIMEOUT')) throw e;
      }
    }
    throw new TinypipeError(
      'TIMEOUT',
      `${this.#port}: no answer from a bootloader: is it an ESP32 in download mode (hold BOOT, tap RESET) at this baud rate?`,
    );
  }

  /** Chip id from GET_SECURITY_INFO (word 3 of its answer; 9 = ESP32-S3), else the magic register (ESP32, ESP32-S2). */
  async chip(): Promise<{ id: number; name: string }> {
    const info = await this.command(Op.GET_SECURITY_INFO, new Uint8Array(0)).catch((e: unknown) => {
      if (TinypipeError.hasCode(e, 'FLASH_FAILED')) return undefined; // older chips do not know it
      throw e;
    });
    if (info && info.data.length >= 16) {
      const id = new DataView(info.data.buffer, info.data.byteOffset).getUint32(12, true);
      return { id, name: CHIP_NAMES[id] ?? `unknown chip ${id}` };
    }
    const magic = await this.readReg(CHIP_MAGIC_REG);
    const name = CHIP_MAGIC[magic] ?? `unknown chip (magic 0x${magic.toString(16)})`;
    return { id: Number(Object.entries(CHIP_NAMES).find(([, n]) => n === name)?.[0] ?? -1), name };
  }

  async readReg(address: number): Promise<number> {
    return (await this.command(Op.READ_REG, u32s(address))).value;
  }

  /** WRITE_REG: address, value, mask (the bits written), delay µs. */
  async writeReg(address: number, value: number, mask = 0xffffffff): Promise<void> {
    await this.command(Op.WRITE_REG, u32s(address, value, mask, 0));
  }

  mac(): Promise<string> {
    return readMac(this);
  }

  /** The RTC and super watchdogs off: for USB-Serial/JTAG boards, once the ROM answers (`../chip/registers.ts`). */
  disableWatchdogs(): Promise<void> {
    return disableWatchdogs(this);
  }

  /** SPI_ATTACH to the default flash pins: the ROM needs it before any flash command; the stub attaches itself. */
  async attachFlash(): Promise<void> {
    if (this.kind === 'rom') await this.command(Op.SPI_ATTACH, spiAttach('rom'));
    this.attached = true;
  }

  /** JEDEC id through SPI1's registers, and its size from esptool's table (undefined when unknown). */
  async flashSize(): Promise<{ id: number; bytes: number | undefined }> {
    const id = await readFlashId(this);
    return { id, bytes: flashSizeFromId(id) };
  }

  /** SPI_SET_PARAMS with the flash size, as esptool sends it once the size is known. */
  async setFlashParams(flashBytes: number): Promise<void> {
    await this.command(Op.SPI_SET_PARAMS, spiSetParams(flashBytes));
  }

  /**
   * CHANGE_BAUDRATE, then the host side: the loader answers at the old rate and switches; esptool then
   * waits 50 ms and flushes what arrived meanwhile (line noise from the switch).
   */
  async changeBaud(baud: number): Promise<void> {
    const t = this.#transport;
    if (!t.setBaudRate) return;
    const current = t.baudRate ?? 115_200; // the ROM starts at 115200 ("Serial Protocol", Initialization)
    if (current === baud) return;
    await this.command(Op.CHANGE_BAUDRATE, changeBaudrate(this.kind, baud, current));
    await t.setBaudRate(baud);
    await sleep(50);
    this.#link.resync();
  }

  /**
   * Uploads the flasher stub to RAM and starts it (MEM_BEGIN / MEM_DATA per segment, MEM_END with the
   * entry), then waits for its "OHAI"; from then on the stub answers. Nothing to do when SYNC found one.
   */
  async runStub(stub: StubImage): Promise<void> {
    if (this.kind === 'stub') return;
    for (const { address, bytes } of stub.segments) {
      await this.command(Op.MEM_BEGIN, memBegin(bytes.length, address));
      for (let seq = 0; seq * RAM_BLOCK < bytes.length; seq++) {
        const block = bytes.subarray(seq * RAM_BLOCK, (seq + 1) * RAM_BLOCK);
        await this.command(Op.MEM_DATA, dataPacket(seq, block), checksum(block));
      }
    }
    // the started stub may reset the UART before the ROM's answer leaves: esptool waits 200 ms and ignores errors
    const ok = await this.#link.greeted(
      () =>
        this.command(Op.MEM_END, memEnd(stub.entry), 0, MEM_END_ROM_TIMEOUT_MS).catch((e: unknown) => {
          if (!TinypipeError.hasCode(e, 'TIMEOUT') && !TinypipeError.hasCode(e, 'FLASH_FAILED')) throw e;
        }),
      this.#timeoutMs,
    );
    if (!ok)
      throw new TinypipeError(
        'FLASH_FAILED',
        `${this.#port}: the flasher stub from ${stub.source} did not start (no OHAI within ${this.#timeoutMs} ms): is it the stub for this chip? Flash without --stub to use the ROM loader`,
      );
    this.kind = 'stub';
    this.attached = false;
  }

  /** MD5 of a flash region, lower-case hex (the ROM's ASCII form or the stub's raw bytes). */
  async md5(offset: number, size: number): Promise<string> {
    const r = await this.command(
      Op.SPI_FLASH_MD5,
      md5Request(offset, size),
      0,
      md5Timeout(size, this.#timeoutMs),
    );
    const md5 = parseMd5(this.kind, r.data);
    if (md5 === undefined)
      throw new TinypipeError(
        'FLASH_FAILED',
        `${this.#port}: SPI_FLASH_MD5 answered ${r.data.length} bytes, not the ${this.kind === 'rom' ? "ROM's 32 hex characters" : "stub's 16 bytes"}`,
        { details: { kind: this.kind, data: Array.from(r.data) } },
      );
    return md5;
  }

  /**
   * Writes `bytes` at `offset`, zlib-compressed, block by block (FLASH_DEFL_BEGIN / DATA). The ROM erases
   * the region before answering BEGIN and writes each block before answering it; the stub answers each
   * block at once and writes it while the next arrives — the timeouts follow (`../protocol/timing.ts`).
   * A block the loader refuses or does not answer is sent again (3 tries, as esptool).
   * The whole input is compressed at once, on this thread (about 0.1 s per 256 KiB at level 9): `flashPlan`
   * hands it one resume chunk at a time (`../flash/chunks.ts`), so a lost line is noticed between chunks.
   */
  async write(
    offset: number,
    bytes: Uint8Array,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const kind = this.kind;
    const blockSize = this.blockSize;
    await Promise.race([sleep(0), this.#link.lost]); // a line lost before we start: said now, not after compressing
    const packed = zlibSync(bytes, { level: 9 });
    const begin = deflBegin(kind, bytes.length, packed.length, offset, blockSize);
    const inflates = blockInflationBounds(packed, blockSize);
    await this.command(
      Op.FLASH_DEFL_BEGIN,
      begin.payload,
      0,
      beginTimeout(kind, begin.writeSize, this.#timeoutMs),
    );
    let timeout = this.#timeoutMs;
    for (let seq = 0; seq < begin.blocks; seq++) {
      const start = seq * blockSize;
      const block = packed.subarray(start, start + blockSize);
      if (kind === 'rom') timeout = blockTimeout(kind, inflates[seq]!, this.#timeoutMs);
      for (let attempt = 1; ; attempt++) {
        try {
          await this.command(Op.FLASH_DEFL_DATA, dataPacket(seq, block), checksum(block), timeout);
          break;
        } catch (e) {
          if (
            attempt >= 3 ||
            !(TinypipeError.hasCode(e, 'FLASH_FAILED') || TinypipeError.hasCode(e, 'TIMEOUT'))
          )
            throw e;
        }
      }
      if (kind === 'stub') timeout = blockTimeout(kind, inflates[seq]!, this.#timeoutMs);
      onProgress?.(
        Math.min(bytes.length, Math.round(((seq + 1) / begin.blocks) * bytes.length)),
        bytes.length,
      );
    }
  }

  /**
   * Leaves the loader and runs the flashed firmware.
   *  - With reset wiring (esptool's default `--after hard-reset`): on USB-Serial/JTAG clear
   *    force-download-boot first, then pulse EN through RTS.
   *  - Without ('none': a PTY, TCP — the virtual boards): in-band, as esptool's `run()` does for the ROM —
   *    FLASH_BEGIN of nothing, then FLASH_END with 1, "run user code" (0 would mean reboot). The stub
   *    takes FLASH_END 0 as a reboot (its sources: 1 keeps it running); a real chip rebooted with GPIO0 low
   *    comes back in download mode, so on hardware use a reset wiring.
   */
  async leave(wiring: ResetWiring): Promise<void> {
    const t = this.#transport;
    if (wiring !== 'none' && canReset(t)) {
      if (wiring === 'usb-jtag-serial') await clearForceDownloadBoot(this).catch(() => {}); // a lost answer must not stop the reset (esptool)
      await hardReset(t);
      return;
    }
    await this.command(Op.FLASH_BEGIN, flashBeginEmpty(this.kind));
    await this.command(Op.FLASH_END, flashEnd(this.kind === 'rom' ? 'run' : 'reboot'));
  }

  async close(): Promise<void> {
    this.#link.release();
    await this.#transport.close();
  }
}
