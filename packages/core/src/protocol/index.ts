export {
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  type HelloInfo,
  HelloStatus,
  PROTOCOL_VERSION,
} from './hello.js';
export { type BoardCounters, decodeMessage, encodeMessage, type Message, MessageKind } from './messages.js';
