export {
  BUILD_ID_BYTES,
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  HELLO_OFFSETS,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type HelloInfo,
  HelloStatus,
  helloStatusOf,
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
