/**
 * `@tinypipe/flasher` — flash every board of a plan at once over the ESP serial bootloader protocol (the
 * chip's ROM loader, or a flasher stub the user supplies), verified by MD5, skipping what is already
 * there, over any `Transport` (Node serialport, Web Serial, test doubles). `./node` reads build folders
 * and stub files.
 */

export { flashSizeFromId, readFlashId } from './chip/flash-id.js';
export type { Registers } from './chip/registers.js';
export { FLASHER_ERROR_CODES, type FlasherErrorCodes } from './errors/codes.js';
export { type Chunk, chunksOf, DEFAULT_CHUNK_BYTES, SECTOR_BYTES } from './flash/chunks.js';
export {
  type BoardImage,
  type BoardResult,
  type BuiltFiles,
  boardImage,
  checkDistinctPorts,
  type FlashEvent,
  type FlashOptions,
  type FlashRegion,
  type FlashTarget,
  flashBoard,
  flashPlan,
} from './flash/flash-plan.js';
export { CHIP_NAMES, EspLoader, type LoaderOptions, type Reply } from './loader/loader.js';
export type { ResetWiring } from './loader/reset.js';
export { checksum, decodePacket, encodeCommand, Op, type Packet, SYNC_DATA } from './protocol/commands.js';
export {
  describeError,
  type LoaderKind,
  ROM_ERRORS,
  readStatus,
  STATUS_BYTES,
  STUB_ERRORS,
  type Status,
} from './protocol/status.js';
export { SlipDecoder, slipEncode } from './slip/slip.js';
export { parseStub, type StubImage, type StubJson, StubJsonSchema, type StubSegment } from './stub/stub.js';
