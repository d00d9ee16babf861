import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRC32C_POLY, crc32c } from './crc32c.js';
import vectors from './vectors.json' with { type: 'json' };

const hexToBytes = (hex: string): Uint8Array =>
  Uint8Array.from({ length: hex.length / 2 }, (_, i) => Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16));

/** The definition, one bit at a time: an implementation independent of the slicing tables. */
function crc32cBitwise(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ CRC32C_POLY : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('has the catalogue check value for "123456789"', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
  });

  it('is 0 for no bytes, and continuing from any CRC over no bytes changes nothing', () => {
    expect(crc32c(new Uint8Array(0))).toBe(0);
    expect(crc32c(new Uint8Array(0), 0xe3069283)).toBe(0xe3069283);
  });

  it('matches RFC 3720 and the shared vector file (also read by the C tests)', () => {
    expect(vectors.vectors.length).toBeGreaterThanOrEqual(8);
    for (const v of vectors.vectors) {
      expect({ name: v.name, crc: crc32c(hexToBytes(v.input_hex)) }).toEqual({
        name: v.name,
        crc: Number.parseInt(v.crc32c, 16),
      });
    }
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i))).toBe(0x46dd794e);
  });

  it('returns an unsigned 32-bit integer', () => {
    const c = crc32c(new Uint8Array(32)); // 0x8A9136AA has the top bit set
    expect(c).toBeGreaterThan(0x7fffffff);
    expect(Number.isInteger(c)).toBe(true);
  });

  it('equals the bit-at-a-time definition for every length around the 8-byte stride', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 300 }), (b) => crc32c(b) === crc32cBitwise(b)),
      { numRuns: 500 },
    );
  });

  it('incremental equals one-shot for any split, and ignores the view offset', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(), fc.nat(7), (b, cut, pad) => {
        const k = b.length === 0 ? 0 : cut % (b.length + 1);
        const whole = crc32c(b);
        const inc = crc32c(b.subarray(k), crc32c(b.subarray(0, k)));
        const shifted = new Uint8Array(b.length + pad);
        shifted.set(b, pad);
        return inc === whole && crc32c(shifted.subarray(pad)) === whole;
      }),
      { numRuns: 500 },
    );
  });
});
