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
