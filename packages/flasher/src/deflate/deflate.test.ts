import { constants, inflateSync } from 'node:zlib';
import { zlibSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { blockInflationBounds } from './deflate.js';

/** A flash image's kinds of content: incompressible weights, patterns, long runs of erased 0xFF. */
function image(n: number): Uint8Array {
  const b = new Uint8Array(n).fill(0xff);
  let x = 12345;
  for (let i = 0; i < n * 0.3; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  for (let i = Math.floor(n * 0.3); i < n * 0.6; i++) b[i] = (i * 31) & 0xff;
  return b;
}

/** What zlib really inflates from the first `n` compressed bytes (a sync-flush read of the prefix). */
const inflatedFrom = (packed: Uint8Array, n: number) =>
  n === 0 ? 0 : inflateSync(packed.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH }).length;

describe('blockInflationBounds', () => {
  for (const [what, data] of [
    ['a mixed image', image(400_000)],
    ['all erased', new Uint8Array(2_000_000).fill(0xff)],
    ['a small table', new Uint8Array(3072).fill(0xff)],
  ] as const)
    it(`bounds what zlib inflates from each block, from above (${what}, ROM and stub block sizes)`, () => {
      const packed = zlibSync(data, { level: 9 });
      for (const size of [0x400, 0x4000]) {
        const bounds = blockInflationBounds(packed, size);
        expect(bounds).toHaveLength(Math.ceil(packed.length / size));
        let sum = 0;
        for (const [k, bound] of bounds.entries()) {
          const real =
            inflatedFrom(packed, Math.min(packed.length, (k + 1) * size)) - inflatedFrom(packed, k * size);
          expect(bound, `block ${k}`).toBeGreaterThanOrEqual(real);
          sum += real;
        }
        expect(sum).toBe(data.length);
        // a bound, not a blanket: far below the whole region for most blocks of a mixed image
        if (what === 'a mixed image' && size === 0x400)
          expect(bounds.filter((b) => b < data.length / 4).length).toBeGreaterThan(bounds.length * 0.8);
      }
    });
});
