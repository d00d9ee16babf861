export {
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  type HelloInfo,
  HelloStatus,
  PROTOCOL_VERSION,
} from './hello.js';
export {
  type BoardCounters,
  type Calibration,
  decodeMessage,
  encodeMessage,
  KERNEL_NAMES,
  type Message,
  MessageKind,
} from './messages.js';
export { firmwareErrorCode } from './status.js';
export { wireBytes, wireMicros } from './wire-size.js';
