import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from './cobs.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../../docs/vectors/protocol.json', import.meta.url), 'utf8'),
);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

describe('COBS', () => {
  it('matches the shared vectors both ways (incl. the published examples)', () => {
    for (const { decoded, encoded } of vectors.cobs) {
      expect(hex(cobsEncode(unhex(decoded)))).toBe(encoded);
      expect(hex(cobsDecode(unhex(encoded)))).toBe(decoded);
    }
    // Cheshire & Baker / Wikipedia examples
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x22, 0x00, 0x33)))).toBe('0311220233');
    expect(hex(cobsEncode(Uint8Array.of(0x00)))).toBe('0101');
    expect(hex(cobsEncode(Uint8Array.of(0x11, 0x00, 0x00, 0x00)))).toBe('0211010101');
  });

  it('round-trips any bytes, never emits 0x00, and stays within the size bound', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), (data) => {
        const enc = cobsEncode(data);
        expect(enc.includes(0)).toBe(false);
        expect(enc.length).toBeLessThanOrEqual(cobsMaxEncodedLength(data.length));
        expect(hex(cobsDecode(enc))).toBe(hex(data));
      }),
      { numRuns: 500 },
    );
  });

  it('decoding arbitrary bytes either succeeds or throws FRAME_MALFORMED, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (block) => {
        try {
          cobsDecode(block);
        } catch (e) {
          expect(TinypipeError.isInstance(e) && e.code === 'FRAME_MALFORMED').toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
