/**
 * `@tinypipe/transport-uart` — the `@tinypipe` wire protocol (docs/protocol.md): frames (COBS + CRC-32C) as
 * web streams and `ReliableLink`, the reliable `Link` over any `Transport`. Serial adapters live in the
 * `./node` (serialport) and `./web` (Web Serial) entries; test doubles in `./testing`.
 */
export { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs/cobs.js';
export {
  createFrameDecoder,
  createFrameEncoder,
  type DecoderStats,
  FrameDecoder,
  newDecoderStats,
} from './codec/streams.js';
export {
  CRC_BYTES,
  type DropReason,
  decodeBlock,
  encodeFrame,
  type Frame,
  FrameType,
  frameBytes,
  HEADER_BYTES,
  MAX_ENCODED,
  MAX_PAYLOAD,
  PROTOCOL_VERSION,
} from './frame/frame.js';
export {
  type AcceptOptions,
  type ConnectOptions,
  type LinkClock,
  ReliableLink,
  type ReliableLinkOptions,
} from './link/reliable-link.js';
export { runLinkSoak, type SoakOptions, type SoakReport } from './soak/soak.js';
