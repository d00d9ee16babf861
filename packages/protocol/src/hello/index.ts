export {
  BUILD_ID_BYTES,
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  HELLO_CAPS_KV_SHIFT,
  HELLO_OFFSETS,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type HelloCaps,
  type HelloInfo,
  HelloStatus,
  helloStatusOf,
  PROTOCOL_VERSION,
} from './hello.js';
export { isKvFormat, KV_FORMATS, type KvFormat, kvFormatCode, kvFormatOf } from './kv-format.js';
