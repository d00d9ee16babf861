/**
 * Command payloads whose layout differs between the ESP32-S3 ROM loader and the flasher stub (facts from
 * esptool's docs "Serial Protocol" command tables, cross-checked with esptool's loader.py and
 * esptool-js's esploader.ts). All words little-endian u32.
 */
import { bytesToHex } from '@noble/hashes/utils';
import { u32s } from './commands.js';
import type { LoaderKind } from './status.js';

/** FLASH_(DEFL_)DATA block size: the ROM takes 0x400 (esptool FLASH_WRITE_SIZE), the stub 0x4000. */
export const BLOCK_SIZE: Readonly<Record<LoaderKind, number>> = { rom: 0x400, stub: 0x4000 };

/** MEM_DATA block size esptool uses to upload the stub (ESP_RAM_BLOCK). */
export const RAM_BLOCK = 0x1800;

/**
 * SPI_ATTACH: one word (0 = the default SPI flash pins); the ROM takes a second word, all zero ("On
 * ESP32-S3 ROM loader only, there is an additional 4 bytes"; esptool: the "is legacy" byte + 3 zeros).
 */
export function spiAttach(kind: LoaderKind, pins = 0): Uint8Array {
  return kind === 'rom' ? u32s(pins, 0) : u32s(pins);
}

/**
 * SPI_SET_PARAMS: id, total size, block size, sector size, page size, status mask — esptool's
 * flash_set_parameters sends 0, the flash size, 64 KiB, 4 KiB, 256, 0xFFFF.
 */
export function spiSetParams(flashBytes: number): Uint8Array {
  return u32s(0, flashBytes, 0x10000, 0x1000, 0x100, 0xffff);
}

/** CHANGE_BAUDRATE: the new rate, then 0 for the ROM or the current (old) rate for the stub. */
export function changeBaudrate(kind: LoaderKind, baud: number, currentBaud: number): Uint8Array {
  return u32s(baud, kind === 'rom' ? 0 : currentBaud);
}

export interface DeflBegin {
  payload: Uint8Array;
  /** FLASH_DEFL_DATA packets that follow. */
  blocks: number;
  /** The size word: what the ROM erases before it answers (rounded up); the stub's exact byte count. */
  writeSize: number;
}

/**
 * FLASH_DEFL_BEGIN: size, number of packets, packet size, flash offset; for the ROM the size is rounded
 * up (esptool and esptool-js round to whole FLASH_WRITE_SIZE blocks of 0x400) and a fifth word follows
 * (1 = encrypted write, 0 = plain); the stub takes the exact uncompressed size and four words (the docs:
 * "a fifth 32-bit word passed to ROM loader only"; esptool-js sends four; esptool.py sends the fifth to
 * the stub too, which ignores it).
 */
export function deflBegin(
  kind: LoaderKind,
  size: number,
  compressedSize: number,
  offset: number,
  blockSize = BLOCK_SIZE[kind],
): DeflBegin {
  const blocks = Math.ceil(compressedSize / blockSize);
  if (kind === 'stub') return { payload: u32s(size, blocks, blockSize, offset), blocks, writeSize: size };
  const writeSize = Math.ceil(size / blockSize) * blockSize;
  return { payload: u32s(writeSize, blocks, blockSize, offset, 0), blocks, writeSize };
}

/** FLASH_BEGIN (uncompressed) as esptool's `run()` sends it with size 0: nothing erased, nothing written. */
export function flashBeginEmpty(kind: LoaderKind): Uint8Array {
  const words = [0, 0, BLOCK_SIZE[kind], 0];
  return kind === 'rom' ? u32s(...words, 0) : u32s(...words);
}

/** MEM_DATA / FLASH_DATA / FLASH_DEFL_DATA payload: data size, sequence number, 0, 0, then the data. */
export function dataPacket(seq: number, block: Uint8Array): Uint8Array {
  const payload = new Uint8Array(16 + block.length);
  payload.set(u32s(block.length, seq, 0, 0));
  payload.set(block, 16);
  return payload;
}

/** MEM_BEGIN: total size, number of packets, packet size, RAM address. */
export function memBegin(size: number, address: number, blockSize = RAM_BLOCK): Uint8Array {
  return u32s(size, Math.ceil(size / blockSize), blockSize, address);
}

/** MEM_END: execute flag, entry point (esptool sends flag = 1 only when the entry is 0: "don't run"). */
export function memEnd(entry: number): Uint8Array {
  return u32s(entry === 0 ? 1 : 0, entry);
}

/** FLASH_END / FLASH_DEFL_END: one word, 0 = reboot, 1 = run user code. */
export function flashEnd(then: 'reboot' | 'run'): Uint8Array {
  return u32s(then === 'reboot' ? 0 : 1);
}

/** SPI_FLASH_MD5: address, size, 0, 0. */
export function md5Request(offset: number, size: number): Uint8Array {
  return u32s(offset, size, 0, 0);
}

/**
 * SPI_FLASH_MD5's answer before the status bytes: the ROM sends 32 ASCII hex characters, the stub 16 raw
 * bytes ("Verifying Uploaded Data"). Lower-case hex, or undefined when the answer is neither.
 */
export function parseMd5(kind: LoaderKind, data: Uint8Array): string | undefined {
  if (kind === 'rom') {
    if (data.length !== 32) return undefined;
    const text = String.fromCharCode(...data).toLowerCase();
    return /^[0-9a-f]{32}$/.test(text) ? text : undefined;
  }
  if (data.length !== 16) return undefined;
  return bytesToHex(data);
}
