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
} from './frame.js';
export {
  createFrameDecoder,
  createFrameEncoder,
  type DecoderStats,
  FrameDecoder,
  newDecoderStats,
} from './streams.js';
export { wireBytes, wireMicros } from './wire-size.js';
