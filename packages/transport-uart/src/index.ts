/**
 * @tinypipe/transport-uart — the @tinypipe wire protocol (docs/protocol.md). This version: the frame
 * layer (COBS + CRC-32C) as web streams. The reliable link, the handshake and the serial adapters come next.
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
export { ReliableLink, type ReliableLinkOptions } from './link/reliable-link.js';
export { runLinkSoak, type SoakOptions, type SoakReport } from './soak/soak.js';
