/**
 * The flash chip's JEDEC id (RDID, 0x9F) read through SPI1's user-command registers, as esptool's
 * `run_spiflash_command` does it (loader.py) for a 24-bit read with no address, dummy or data out:
 * save USR and USR2, set the MISO length, USR = command + MISO phases (the command phase bit, 1 << 31,
 * is what makes the chip send 0x9F at all), USR2 = 8-bit command 0x9F, clear W0, start, wait for the
 * start bit to clear (10 reads), read W0, restore USR and USR2.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { type Registers, SPI_CMD_USR, SPI_USR_COMMAND, SPI_USR_MISO, SPI1 } from './registers.js';

const RDID = 0x9f;

/** manufacturer | memory type << 8 | capacity << 16. */
export async function readFlashId(r: Registers): Promise<number> {
  const usr = await r.readReg(SPI1.USR);
  const usr2 = await r.readReg(SPI1.USR2);
  await r.writeReg(SPI1.MISO_DLEN, 24 - 1);
  await r.writeReg(SPI1.USR, (SPI_USR_COMMAND | SPI_USR_MISO) >>> 0);
  await r.writeReg(SPI1.USR2, ((7 << 28) | RDID) >>> 0);
  await r.writeReg(SPI1.W0, 0);
  await r.writeReg(SPI1.CMD, SPI_CMD_USR);
  let done = false;
  for (let i = 0; i < 10 && !done; i++) done = ((await r.readReg(SPI1.CMD)) & SPI_CMD_USR) === 0;
  if (!done)
    throw new TinypipeError(
      'FLASH_FAILED',
      'the flash id command (RDID) did not complete: the flash chip is not answering on SPI1 — check the module, or try again after a reset',
    );
  const id = (await r.readReg(SPI1.W0)) >>> 0;
  await r.writeReg(SPI1.USR, usr);
  await r.writeReg(SPI1.USR2, usr2);
  return id;
}

const MiB = 1024 * 1024;
const KiB = 1024;

/** esptool's DETECTED_FLASH_SIZES (cmds.py): the capacity byte → bytes. Not 2^byte: 0x32–0x3A and 0x20–0x22 are other vendors' codes. */
export const FLASH_SIZES: Readonly<Record<number, number>> = {
  18: 256 * KiB,
  19: 512 * KiB,
  20: 1 * MiB,
  21: 2 * MiB,
  22: 4 * MiB,
  23: 8 * MiB,
  24: 16 * MiB,
  25: 32 * MiB,
  26: 64 * MiB,
  27: 128 * MiB,
  28: 256 * MiB,
  32: 64 * MiB,
  33: 128 * MiB,
  34: 256 * MiB,
  50: 256 * KiB,
  51: 512 * KiB,
  52: 1 * MiB,
  53: 2 * MiB,
  54: 4 * MiB,
  55: 8 * MiB,
  56: 16 * MiB,
  57: 32 * MiB,
  58: 64 * MiB,
};

/** Adesto (manufacturer 0x1F) codes its size in the low 5 bits of the second byte (DETECTED_FLASH_SIZES_ADESTO). */
const ADESTO = 0x1f;
export const ADESTO_FLASH_SIZES: Readonly<Record<number, number>> = {
  4: 512 * KiB,
  5: 1 * MiB,
  6: 2 * MiB,
  7: 4 * MiB,
  8: 8 * MiB,
  9: 16 * MiB,
};

/** Flash bytes for a JEDEC id, or undefined when esptool's tables do not know it. */
export function flashSizeFromId(id: number): number | undefined {
  if ((id & 0xff) === ADESTO) return ADESTO_FLASH_SIZES[(id >> 8) & 0x1f];
  return FLASH_SIZES[(id >>> 16) & 0xff];
}
