/**
 * `@tinypipe/flasher` — flash every board of a plan at once over the ESP serial bootloader protocol,
 * verified by MD5, skipping what is already there, over any `Transport` (Node serialport, Web Serial,
 * test doubles). `./node` reads build folders.
 */
export {
  type BoardImage,
  type BoardResult,
  type BuiltFiles,
  boardImage,
  type FlashEvent,
  type FlashOptions,
  type FlashRegion,
  type FlashTarget,
  flashBoard,
  flashPlan,
} from './flash/flash-plan.js';
export { CHIP_NAMES, EspLoader, type LoaderOptions } from './loader/loader.js';
export {
  checksum,
  decodeResponse,
  encodeCommand,
  Op,
  type Response,
  ROM_ERRORS,
  SYNC_DATA,
} from './protocol/commands.js';
export { SlipDecoder, slipEncode } from './slip/slip.js';
