import { constants, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compress, inflatedBound } from './deflate.js';

/** A flash image's kinds of content: incompressible weights, a table, long runs of erased 0xFF. */
function image(n: number): Uint8Array {
  const b = new Uint8Array(n).fill(0xff);
  let x = 12345;
  for (let i = 0; i < n * 0.4; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  for (let i = Math.floor(n * 0.4); i < n * 0.6; i++) b[i] = i % 7;
  return b;
}

/** What zlib really inflates from the first `n` compressed bytes (a sync-flush read of the prefix). */
const inflatedFrom = (packed: Uint8Array, n: number) =>
  n === 0 ? 0 : inflateSync(packed.subarray(0, n), { finishFlush: constants.Z_SYNC_FLUSH }).length;

describe('compress', () => {
  it('is one zlib stream of the data', () => {
    const data = image(300_000);
    expect(new Uint8Array(inflateSync(compress(data).packed))).toEqual(data);
    expect(new Uint8Array(inflateSync(compress(new Uint8Array(0)).packed))).toEqual(new Uint8Array(0));
  });

  it("bounds what each block inflates to, from above, for the ROM's and the stub's block sizes", () => {
    const data = image(300_000);
    const c = compress(data);
    for (const size of [0x400, 0x4000]) {
      let total = 0;
      for (let at = 0; at < c.packed.length; at += size) {
        const end = Math.min(c.packed.length, at + size);
        const real = inflatedFrom(c.packed, end) - inflatedFrom(c.packed, at);
        const bound = inflatedBound(c, at, end);
        expect(bound, `block at ${at}`).toBeGreaterThanOrEqual(real);
        expect(bound, `block at ${at}`).toBeLessThanOrEqual(real + 2 * 0x10000); // within a piece each side
        total += real;
      }
      expect(total).toBe(data.length);
    }
  });
});
