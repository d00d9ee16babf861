/**
 * ESP32-S3 register addresses the flasher touches through READ_REG / WRITE_REG (values from esptool's
 * targets/esp32s3.py and loader.py), and the procedures built on them. Each procedure takes a
 * `Registers` so it can be checked against a fake register file.
 */

/** What READ_REG / WRITE_REG give: WRITE_REG's mask selects the bits written (esptool `write_reg`). */
export interface Registers {
  readReg(address: number): Promise<number>;
  writeReg(address: number, value: number, mask?: number): Promise<void>;
}

/** eFuse words holding the base MAC (MAC_EFUSE_REG and the next word, its low 16 bits). */
export const EFUSE_MAC0 = 0x60007044;
export const EFUSE_MAC1 = 0x60007048;
/** Read when GET_SECURITY_INFO has no chip id (ESP32, ESP32-S2): esptool CHIP_DETECT_MAGIC_REG_ADDR. */
export const CHIP_MAGIC_REG = 0x40001000;
export const CHIP_MAGIC: Readonly<Record<number, string>> = { 15736195: 'ESP32', 1990: 'ESP32-S2' };

/** SPI1, the flash controller: user-command registers (esptool ESP32S3ROM SPI_*_OFFS). */
export const SPI1 = {
  CMD: 0x60002000,
  USR: 0x60002018,
  USR1: 0x6000201c,
  USR2: 0x60002020,
  MOSI_DLEN: 0x60002024,
  MISO_DLEN: 0x60002028,
  W0: 0x60002058,
} as const;
/** CMD: start the user command; the bit clears when it is done. */
export const SPI_CMD_USR = 1 << 18;
/** USR: the command, MISO (read) phases. */
export const SPI_USR_COMMAND = 1 << 31;
export const SPI_USR_MISO = 1 << 28;

/** RTC_CNTL (base 0x60008000): the RTC watchdog, the super watchdog and their write-protect keys. */
export const RTC_CNTL = {
  WDTCONFIG0: 0x60008098,
  WDTWPROTECT: 0x600080b0,
  SWD_CONF: 0x600080b4,
  SWD_WPROTECT: 0x600080b8,
  /** OPTION1: bit 0 forces download boot after a reset over USB (RTC_CNTL_FORCE_DOWNLOAD_BOOT). */
  OPTION1: 0x6000812c,
} as const;
export const RTC_WDT_WKEY = 0x50d83aa1;
export const SWD_WKEY = 0x8f1d312a;
export const SWD_AUTO_FEED_EN = 1 << 31;
export const FORCE_DOWNLOAD_BOOT = 0x1;

/**
 * On USB-Serial/JTAG the RTC watchdog and the super watchdog are not reset with the chip and can reset it
 * mid-flash: esptool (esp32s3.py `disable_watchdogs`, run once the ROM answers) turns the RTC WDT off and
 * sets the SWD to feed itself, each behind its write-protect key.
 */
export async function disableWatchdogs(r: Registers): Promise<void> {
  await r.writeReg(RTC_CNTL.WDTWPROTECT, RTC_WDT_WKEY);
  await r.writeReg(RTC_CNTL.WDTCONFIG0, 0);
  await r.writeReg(RTC_CNTL.WDTWPROTECT, 0);
  await r.writeReg(RTC_CNTL.SWD_WPROTECT, SWD_WKEY);
  await r.writeReg(RTC_CNTL.SWD_CONF, ((await r.readReg(RTC_CNTL.SWD_CONF)) | SWD_AUTO_FEED_EN) >>> 0);
  await r.writeReg(RTC_CNTL.SWD_WPROTECT, 0);
}

/** Before a hard reset over USB: clear force-download-boot, or the chip comes back in the ROM (esp32s3.py `hard_reset`). */
export async function clearForceDownloadBoot(r: Registers): Promise<void> {
  await r.writeReg(RTC_CNTL.OPTION1, 0, FORCE_DOWNLOAD_BOOT);
}

/** The base MAC from its two eFuse words, "aa:bb:cc:dd:ee:ff". */
export async function readMac(r: Registers): Promise<string> {
  const lo = await r.readReg(EFUSE_MAC0);
  const hi = await r.readReg(EFUSE_MAC1);
  const bytes = [(hi >> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >> 16) & 0xff, (lo >> 8) & 0xff, lo & 0xff];
  return bytes.map((b) => b.toString(16).padStart(2, '0')).join(':');
}
