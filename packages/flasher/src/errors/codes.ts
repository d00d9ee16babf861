/**
 * The error codes `@tinypipe/flasher` owns, with what each means. Registering them in `TinypipeErrorCodes`
 * makes them type-check wherever this package is installed; docs/errors.md lists every package's codes.
 */
export const FLASHER_ERROR_CODES = {
  WRONG_CHIP: 'The chip on a port is not the one the plan was built for.',
  FLASH_TOO_SMALL: "The chip's flash is smaller than the plan's board profile.",
  FLASH_FAILED: 'The bootloader refused a command (its status and error code are in the message).',
  FLASH_VERIFY_FAILED:
    "A region's MD5 read back from flash differs from what was written, even after rewriting it.",
  BUILD_INVALID: 'A build folder whose manifest or files are missing or do not match their SHA-256.',
  STUB_INVALID:
    "A flasher stub image that is not in esptool's stub JSON format (the message names the bad field).",
  WRONG_BOARD:
    "The chip on a port is not the one (MAC) this board's build was flashed to before: swapped ports or a replaced board.",
  BAD_OFFSET:
    'A manifest region lies outside the partition it names, outside the flash, or overlaps another region.',
  DISK_FULL:
    'The disk (or the user’s quota) is full (ENOSPC, EDQUOT): nothing was replaced; free space and run again.',
} as const;

/** The table's type, merged into `TinypipeErrorCodes`. */
export type FlasherErrorCodes = typeof FLASHER_ERROR_CODES;

declare module '@tinypipe/protocol' {
  interface TinypipeErrorCodes extends FlasherErrorCodes {}
}
