/**
 * `EspLoader`: one ESP serial bootloader session over any `Transport` — the commands a flasher needs
 * (sync, chip identity, MAC, flash size, compressed writes, MD5, reboot), each awaited with a timeout,
 * each failure a TinypipeError naming the port.
 *
 * Why not esptool-js: our flasher is transport-agnostic (serialport, Web Serial, test doubles) and runs
 * against a virtual ESP32-S3 that implements the flasher stub's commands directly; esptool-js drives a
 * Web-Serial-shaped port with modem lines, uploads its stub unless SYNC says otherwise, and reads a long
 * list of chip registers for its description. The subset we need is small, documented by Espressif, and
 * testable byte for byte here.
 */
import { TinypipeError, type Transport } from '@tinypipe/core';
import { zlibSync } from 'fflate';
import {
  checksum,
  decodeResponse,
  encodeCommand,
  Op,
  type Response,
  ROM_ERRORS,
  SYNC_DATA,
  u32s,
} from '../protocol/commands.js';
import { SlipDecoder, slipEncode } from '../slip/slip.js';

export const CHIP_NAMES: Readonly<Record<number, string>> = {
  0: 'ESP32',
  2: 'ESP32-S2',
  5: 'ESP32-C3',
  9: 'ESP32-S3',
  12: 'ESP32-C2',
  13: 'ESP32-C6',
  18: 'ESP32-P4',
};

const EFUSE_MAC0 = 0x60007044;
const EFUSE_MAC1 = 0x60007048;
const SPI1 = 0x60002000;
const opName = (op: number) => Object.entries(Op).find(([, v]) => v === op)?.[0] ?? `0x${op.toString(16)}`;

export interface LoaderOptions {
  /** Per-command timeout (ms). Default 3000. */
  timeoutMs?: number;
  /** Compressed block size. Default 16 KiB (the stub's). */
  blockSize?: number;
}

export class EspLoader {
  readonly #transport: Transport;
  readonly #port: string;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #timeoutMs: number;
  readonly blockSize: number;
  #waiting: { op: number; resolve: (r: Response) => void } | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #failure: TinypipeError | undefined;
  #onFailure: ((e: TinypipeError) => void) | undefined;

  constructor(transport: Transport, port: string, options: LoaderOptions = {}) {
    this.#transport = transport;
    this.#port = port;
    this.#timeoutMs = options.timeoutMs ?? 3000;
    this.blockSize = options.blockSize ?? 0x4000;
    this.#writer = transport.writable.getWriter();
    const decoder = new SlipDecoder((p) => {
      const r = decodeResponse(p);
      if (r && this.#waiting && r.op === this.#waiting.op) this.#waiting.resolve(r);
    });
    void (async () => {
      const reader = transport.readable.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          decoder.push(value);
        }
        this.#fail(new TinypipeError('PORT_DISCONNECTED', `${port}: the line closed`));
      } catch (cause) {
        this.#fail(
          TinypipeError.isInstance(cause)
            ? cause
            : new TinypipeError('PORT_DISCONNECTED', `${port}: reading failed`, { cause }),
        );
      } finally {
        reader.releaseLock();
      }
    })();
  }

  #fail(e: TinypipeError): void {
    if (this.#failure) return;
    this.#failure = e;
    this.#onFailure?.(e);
  }

  /** Sends one command and waits for its response; FLASH_FAILED when the bootloader says no. */
  command(op: number, data: Uint8Array, check = 0, timeoutMs = this.#timeoutMs): Promise<Response> {
    const run = async (): Promise<Response> => {
      if (this.#failure) throw this.#failure;
      const response = new Promise<Response>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            reject(
              new TinypipeError(
                'TIMEOUT',
                `${this.#port}: no answer to ${opName(op)} within ${timeoutMs} ms`,
              ),
            ),
          timeoutMs,
        );
        this.#waiting = {
          op,
          resolve: (r) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        this.#onFailure = (e) => {
          clearTimeout(timer);
          reject(e);
        };
      });
      response.catch(() => {}); // observed below; this keeps a rejection after a failed write from going unhandled
      const sent = this.#writer.write(slipEncode(encodeCommand(op, data, check))).catch((cause) => {
        throw new TinypipeError('PORT_DISCONNECTED', `${this.#port}: writing failed`, { cause });
      });
      // the answer's timer also bounds a write the driver never completes: a flash fails, never hangs
      const r = await Promise.race([sent.then(() => response), response]).finally(() => {
        this.#waiting = undefined;
        this.#onFailure = undefined;
      });
      if (r.status !== 0)
        throw new TinypipeError(
          'FLASH_FAILED',
          `${this.#port}: ${opName(op)} failed: ${ROM_ERRORS[r.error] ?? `error 0x${r.error.toString(16)}`}`,
          { details: { op, error: r.error } },
        );
      return r;
    };
    const next = this.#chain.then(run, run);
    this.#chain = next.catch(() => {});
    return next;
  }

  /** SYNC until answered (the chip must be in download mode). */
  async sync(attempts = 10): Promise<void> {
    for (let i = 0; i < attempts; i++) {
      try {
        await this.command(Op.SYNC, SYNC_DATA, 0, 200);
        return;
      } catch (e) {
        if (!TinypipeError.hasCode(e, 'TIMEOUT')) throw e;
      }
    }
    throw new TinypipeError(
      'TIMEOUT',
      `${this.#port}: no answer from a bootloader: is it an ESP32 in download mode (hold BOOT, tap RESET) at this baud rate?`,
    );
  }

  async chip(): Promise<{ id: number; name: string }> {
    const r = await this.command(Op.GET_SECURITY_INFO, new Uint8Array(0));
    const id = r.data.length >= 16 ? new DataView(r.data.buffer, r.data.byteOffset).getUint32(12, true) : -1;
    return { id, name: CHIP_NAMES[id] ?? `unknown chip ${id}` };
  }

  async readReg(address: number): Promise<number> {
    return (await this.command(Op.READ_REG, u32s(address))).value >>> 0;
  }

  async writeReg(address: number, value: number): Promise<void> {
    await this.command(Op.WRITE_REG, u32s(address, value, 0xffffffff, 0));
  }

  async mac(): Promise<string> {
    const lo = await this.readReg(EFUSE_MAC0);
    const hi = await this.readReg(EFUSE_MAC1);
    const bytes = [
      (hi >> 8) & 0xff,
      hi & 0xff,
      (lo >>> 24) & 0xff,
      (lo >> 16) & 0xff,
      (lo >> 8) & 0xff,
      lo & 0xff,
    ];
    return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
  }

  /** Flash size from the chip's JEDEC id (RDID, 0x9F, through the SPI1 user-command registers). */
  async flashSize(): Promise<number> {
    await this.writeReg(SPI1 + 0x18, 1 << 28); // USR: MISO phase
    await this.writeReg(SPI1 + 0x28, 23); // MISO_DLEN: 24 bits
    await this.writeReg(SPI1 + 0x20, (7 << 28) | 0x9f); // USR2: 8-bit command 0x9F
    await this.writeReg(SPI1, 1 << 18); // CMD: USR
    for (let i = 0; i < 10 && (await this.readReg(SPI1)) & (1 << 18); i++);
    const id = await this.readReg(SPI1 + 0x58);
    return 2 ** ((id >> 16) & 0xff);
  }

  /** MD5 of a flash region, as lower-case hex. */
  async md5(offset: number, size: number): Promise<string> {
    const r = await this.command(
      Op.SPI_FLASH_MD5,
      u32s(offset, size, 0, 0),
      0,
      this.#timeoutMs + (size / 1e6) * 8000,
    );
    if (r.data.length === 32) return new TextDecoder().decode(r.data); // the ROM answers in hex
    return Array.from(r.data.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join('');
  }

  /** Writes `bytes` at `offset`, zlib-compressed, block by block; a block the chip refuses is sent again (3 tries). */
  async write(
    offset: number,
    bytes: Uint8Array,
    onProgress?: (done: number, total: number) => void,
  ): Promise<void> {
    const packed = zlibSync(bytes, { level: 9 });
    const blocks = Math.ceil(packed.length / this.blockSize);
    await this.command(
      Op.FLASH_DEFL_BEGIN,
      u32s(bytes.length, blocks, this.blockSize, offset),
      0,
      this.#timeoutMs + (bytes.length / 1e6) * 2000,
    );
    for (let seq = 0; seq < blocks; seq++) {
      const block = packed.subarray(seq * this.blockSize, (seq + 1) * this.blockSize);
      const payload = new Uint8Array(16 + block.length);
      payload.set(u32s(block.length, seq, 0, 0));
      payload.set(block, 16);
      for (let attempt = 1; ; attempt++) {
        try {
          // a block is inflated and written to flash before the answer: esptool allows seconds per block too
          await this.command(Op.FLASH_DEFL_DATA, payload, checksum(block), Math.max(this.#timeoutMs, 10_000));
          break;
        } catch (e) {
          if (
            attempt >= 3 ||
            !(TinypipeError.hasCode(e, 'FLASH_FAILED') || TinypipeError.hasCode(e, 'TIMEOUT'))
          )
            throw e;
        }
      }
      onProgress?.(Math.min(bytes.length, Math.round(((seq + 1) / blocks) * bytes.length)), bytes.length);
    }
  }

  /** Leaves the bootloader and runs the firmware (FLASH_END with "reboot"). */
  async reboot(): Promise<void> {
    await this.command(Op.FLASH_DEFL_END, u32s(0));
  }

  async close(): Promise<void> {
    this.#writer.releaseLock();
    await this.#transport.close();
  }
}
