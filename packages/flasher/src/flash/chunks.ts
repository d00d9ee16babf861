/**
 * Where a region is cut for resuming: each chunk is written as its own FLASH_DEFL_BEGIN…DATA session
 * and checked by its own SPI_FLASH_MD5, so a re-run after an interruption skips the chunks already in
 * place. Both loaders erase whole 4 KiB sectors around what a BEGIN announces (docs/esp-rom.md: the ROM
 * the region before answering, the stub each sector as the data reaches it), so chunk boundaries sit on
 * multiples of the chunk size in flash addresses — never inside a sector, where one chunk's erase would
 * wipe its neighbour's finished bytes.
 */
import { TinypipeError } from '@tinypipe/protocol';

/** The flash's erase unit (SPI_SET_PARAMS' sector size). */
export const SECTOR_BYTES = 0x1000;
/** Default chunk: 64 erase sectors; 34 chunks for an 8.6 MB model, about 3 s of a 921,600-baud line each. */
export const DEFAULT_CHUNK_BYTES = 0x40000;

export interface Chunk {
  /** Flash address. */
  offset: number;
  /** Where it starts in the region's bytes. */
  start: number;
  size: number;
}

/** Cuts [offset, offset + size) at the multiples of `chunkBytes` (itself a multiple of the 4 KiB sector). */
export function chunksOf(offset: number, size: number, chunkBytes = DEFAULT_CHUNK_BYTES): Chunk[] {
  if (!Number.isInteger(chunkBytes) || chunkBytes <= 0 || chunkBytes % SECTOR_BYTES !== 0)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `chunkBytes ${chunkBytes} is not a positive multiple of the flash's ${SECTOR_BYTES}-byte sector: use e.g. ${DEFAULT_CHUNK_BYTES}`,
    );
  const chunks: Chunk[] = [];
  for (let at = offset; at < offset + size; ) {
    const end = Math.min(offset + size, (Math.floor(at / chunkBytes) + 1) * chunkBytes);
    chunks.push({ offset: at, start: at - offset, size: end - at });
    at = end;
  }
  return chunks;
}
