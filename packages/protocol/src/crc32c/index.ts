export { CRC32C_POLY, crc32c } from './crc32c.js';
