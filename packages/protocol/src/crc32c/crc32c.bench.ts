/**
 * Throughput of the slicing-by-8 CRC-32C against the byte-at-a-time definition:
 * `cd packages/core && npx vitest bench src/crc32c --run`.
 */
import { bench, describe } from 'vitest';
import { CRC32C_POLY, crc32c } from './crc32c.js';

const T0 = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
  T0[n] = c >>> 0;
}

function bytewise(b: Uint8Array): number {
  let c = ~0;
  for (let i = 0; i < b.length; i++) c = (T0[(c ^ (b[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}

const buf = new Uint8Array(4 << 20); // 4 MiB
for (let i = 0; i < buf.length; i++) buf[i] = Math.imul(i, 2654435761) >>> 24;

describe('crc32c over 4 MiB', () => {
  bench('slicing-by-8 (crc32c)', () => {
    crc32c(buf);
  });
  bench('byte at a time', () => {
    bytewise(buf);
  });
});
