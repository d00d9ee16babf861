export {
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  type HelloInfo,
  HelloStatus,
  PROTOCOL_VERSION,
} from './hello.js';
export { decodeMessage, encodeMessage, type Message, MessageKind } from './messages.js';
