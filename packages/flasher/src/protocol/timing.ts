/**
 * How long to wait for each answer — esptool's figures (esptool/loader.py constants, cmds.py
 * `_get_flash_defl_block_timeout`), in ms. The ROM erases the whole region when FLASH_DEFL_BEGIN arrives
 * and writes each block before answering it; the stub erases as it goes and answers a block on arrival,
 * so its block timeouts cover the block before.
 */
import type { LoaderKind } from './status.js';

export const DEFAULT_TIMEOUT_MS = 3000;
export const SYNC_TIMEOUT_MS = 100;
/** MEM_END to the ROM: the code it starts may reset the UART before the answer leaves (esptool: ignore errors). */
export const MEM_END_ROM_TIMEOUT_MS = 200;
export const ERASE_MS_PER_MB = 40_000;
export const ERASE_WRITE_MS_PER_MB = 40_000;
export const MD5_MS_PER_MB = 8_000;

/** `msPerMb` × size in MB (10^6 bytes), never below `floorMs`. */
export function timeoutPerMb(msPerMb: number, bytes: number, floorMs = DEFAULT_TIMEOUT_MS): number {
  return Math.max(floorMs, Math.ceil((msPerMb * bytes) / 1e6));
}

/** FLASH_DEFL_BEGIN: the ROM erases `writeSize` bytes before answering (8.6 MB → 344 s); the stub answers at once. */
export function beginTimeout(kind: LoaderKind, writeSize: number, floorMs = DEFAULT_TIMEOUT_MS): number {
  return kind === 'rom' ? timeoutPerMb(ERASE_MS_PER_MB, writeSize, floorMs) : floorMs;
}

/**
 * A compressed block that inflates to `uncompressed` bytes: the ROM writes them before answering; the
 * stub may erase a 64 KiB block before inflating and one more per 32 KiB of its inflate buffer.
 */
export function blockTimeout(kind: LoaderKind, uncompressed: number, floorMs = DEFAULT_TIMEOUT_MS): number {
  const bytes =
    kind === 'rom' ? uncompressed : uncompressed + (Math.ceil(uncompressed / 0x8000) + 1) * 0x10000;
  return timeoutPerMb(ERASE_WRITE_MS_PER_MB, bytes, floorMs);
}

export function md5Timeout(size: number, floorMs = DEFAULT_TIMEOUT_MS): number {
  return timeoutPerMb(MD5_MS_PER_MB, size, floorMs);
}
