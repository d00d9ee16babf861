export { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';
