/**
 * Property-based fuzzing of the COBS decoder (issue 17, item 6). Bounded: a few thousand runs. Replay a
 * failure with the seed fast-check prints: `FC_SEED=<seed> npx vitest run src/cobs`.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { cobsDecode, cobsEncode } from './cobs.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

/** The decoded bytes, or the code of the TinypipeError it threw (anything else fails the property). */
function decodeOrCode(block: Uint8Array): Uint8Array | string {
  try {
    return cobsDecode(block);
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    return e.code;
  }
}

/**
 * The block shapes the decoder accepts that the (canonical) encoder never writes: the empty block (the
 * frame decoder never passes one: it skips back-to-back 0x00s) and a final 0xFF block followed by a lone
 * 0x01 code, which adds nothing. Harmless (a frame's CRC covers the decoded bytes, and the C decoder
 * accepts the same), but they are the only exceptions to "decodes ⇒ re-encodes to the same bytes".
 */
function nonCanonical(block: Uint8Array): boolean {
  if (block.length === 0) return true;
  if (block.length < 256 || block[block.length - 1] !== 0x01) return false;
  // walk the codes to find the start of the last block before the final 0x01
  let i = 0;
  let previous = -1;
  while (i < block.length - 1) {
    previous = i;
    i += block[i]!;
  }
  return i === block.length - 1 && previous >= 0 && block[previous] === 0xff;
}

// bytes rich in 0x00 (block ends) and long non-zero runs (0xFF codes)
const payload = fc.oneof(
  fc.uint8Array({ maxLength: 1200 }),
  fc.uint8Array({ minLength: 250, maxLength: 800, min: 1 }),
  fc.array(fc.constantFrom(0, 1, 0xff), { maxLength: 600 }).map((a) => Uint8Array.from(a)),
);

describe('COBS decoder (fuzz)', () => {
  it('arbitrary blocks: bytes or FRAME_MALFORMED, never longer than the block, and canonical', () => {
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 1200 }), payload.map(cobsEncode)), (block) => {
        const r = decodeOrCode(block);
        if (typeof r === 'string') {
          expect(r).toBe('FRAME_MALFORMED');
          return;
        }
        expect(r.length).toBeLessThan(Math.max(1, block.length));
        if (!nonCanonical(block)) expect(cobsEncode(r)).toEqual(block);
      }),
      runs(3000),
    );
  });

  it('round trip: decode(encode(x)) = x', () => {
    fc.assert(
      fc.property(payload, (data) => {
        expect(cobsDecode(cobsEncode(data))).toEqual(data);
      }),
      runs(2000),
    );
  });

  it('mutations of a valid block: FRAME_MALFORMED or bytes that re-encode to the mutated block', () => {
    fc.assert(
      fc.property(
        payload,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.nat(),
        fc.boolean(),
        (data, at, bit, cut, truncate) => {
          const block = cobsEncode(data).slice();
          let mutated: Uint8Array;
          if (truncate) mutated = block.subarray(0, cut % block.length);
          else {
            block[at % block.length]! ^= 1 << bit;
            mutated = block;
          }
          const r = decodeOrCode(mutated);
          if (typeof r === 'string') expect(r).toBe('FRAME_MALFORMED');
          else if (!nonCanonical(mutated)) expect(cobsEncode(r)).toEqual(mutated);
        },
      ),
      runs(3000),
    );
  });

  it('the non-canonical forms decode to the same bytes as the canonical one', () => {
    const data = new Uint8Array(254).fill(7);
    const canonical = cobsEncode(data);
    expect(canonical.length).toBe(255);
    expect(cobsDecode(Uint8Array.of(...canonical, 0x01))).toEqual(data);
    expect(cobsDecode(new Uint8Array(0))).toEqual(new Uint8Array(0));
  });
});
