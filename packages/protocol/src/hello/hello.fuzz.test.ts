/**
 * Property-based fuzzing of the HELLO decoder (issue 17, item 6). Written against HELLO_BYTES and the
 * codec's own output rather than the field layout, so it holds whatever size HELLO has. Replay a failure
 * with the seed fast-check prints: `FC_SEED=<seed> npx vitest run src/protocol`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { decodeHello, encodeHello, HELLO_BYTES, type HelloInfo } from './hello.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

function decodeOrCode(bytes: Uint8Array): HelloInfo | string {
  try {
    return decodeHello(bytes);
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    return e.code;
  }
}

/** HELLO-sized bytes, the role byte (offset 1) usually a valid one, many fields at their "any" values. */
const helloSized = fc
  .record({
    fill: fc.uint8Array({ minLength: HELLO_BYTES, maxLength: HELLO_BYTES }),
    role: fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(0, 1) },
      { weight: 1, arbitrary: fc.integer({ min: 2, max: 255 }) },
    ),
    anyRuns: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 32 }), fc.constantFrom(0, 0xff)), {
      maxLength: 4,
    }),
  })
  .map(({ fill, role, anyRuns }) => {
    const b = fill.slice();
    for (const [at, n, v] of anyRuns)
      b.fill(v, at % HELLO_BYTES, Math.min(HELLO_BYTES, (at % HELLO_BYTES) + n));
    b[1] = role;
    return b;
  });

/**
 * Every decoded HELLO must encode, and encoding is a fixed point after one decode: encode(decode(b))
 * decodes to the same value and re-encodes to the same bytes.
 */
function check(bytes: Uint8Array): void {
  const h = decodeOrCode(bytes);
  if (typeof h === 'string') {
    expect(h).toBe('MESSAGE_MALFORMED');
    return;
  }
  const again = encodeHello(h);
  expect(again.length).toBe(HELLO_BYTES);
  expect(decodeHello(again)).toEqual(h);
  expect(encodeHello(decodeHello(again))).toEqual(again);
  if (h.fingerprint) expect(h.fingerprint.length).toBe(32);
}

describe('HELLO decoder (fuzz)', () => {
  it('arbitrary bytes of any length: a HELLO or MESSAGE_MALFORMED', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: HELLO_BYTES + 16 }), (b) => {
        // longer than HELLO_BYTES never decodes; a shorter size may (an older protocol's HELLO, so its
        // peer can be told PROTOCOL_MISMATCH), and then it satisfies the same fixed-point property
        if (b.length > HELLO_BYTES) expect(decodeOrCode(b)).toBe('MESSAGE_MALFORMED');
        check(b);
      }),
      runs(2000),
    );
  });

  it('HELLO-sized bytes decode to a fixed point of encode ∘ decode, or MESSAGE_MALFORMED', () => {
    fc.assert(fc.property(helloSized, check), runs(3000));
  });

  it('mutations of a valid HELLO (flipped, truncated, extended): a fixed point, or MESSAGE_MALFORMED', () => {
    fc.assert(
      fc.property(helloSized, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (b, at, bit, cut) => {
        const h = decodeOrCode(b);
        if (typeof h === 'string') return;
        const valid = encodeHello(h);
        const flipped = valid.slice();
        flipped[at % HELLO_BYTES]! ^= 1 << bit;
        check(flipped);
        check(valid.subarray(0, cut % HELLO_BYTES));
        expect(decodeOrCode(Uint8Array.of(...valid, 0))).toBe('MESSAGE_MALFORMED');
      }),
      runs(3000),
    );
  });
});
