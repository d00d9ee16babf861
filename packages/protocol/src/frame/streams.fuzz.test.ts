/**
 * Property-based fuzzing of the stream decoder that splits line bytes into frames (issue 17, item 6).
 * Replay a failure with the seed fast-check prints: `FC_SEED=<seed> npx vitest run src/frame`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DropReason, encodeFrame, type Frame, MAX_ENCODED } from './frame.js';
import { anyFrame, runs } from './frame.test-helper.js';
import { FrameDecoder } from './streams.js';

const frameArb = anyFrame(fc.uint8Array({ maxLength: 200 }));

/** Cuts `bytes` into chunks at the (sorted, deduplicated) cut points. */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

const concat = (parts: readonly Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

function decodeAll(chunks: readonly Uint8Array[]) {
  const frames: Frame[] = [];
  const drops: DropReason[] = [];
  const d = new FrameDecoder(
    (f) => frames.push(f),
    undefined,
    (r) => drops.push(r),
  );
  for (const c of chunks) d.push(c);
  return { frames, drops, stats: d.stats };
}

describe('stream decoder (fuzz)', () => {
  it('arbitrary line bytes in any chunking: never throws, every block accounted for once', () => {
    const line = fc.oneof(
      fc.uint8Array({ maxLength: 3000 }),
      fc.array(fc.constantFrom(0, 1, 2, 0xff), { maxLength: 3000 }).map((a) => Uint8Array.from(a)),
      fc
        .uint8Array({ minLength: MAX_ENCODED, maxLength: MAX_ENCODED + 300, min: 1 })
        .map((b) => Uint8Array.of(0, ...b, 0)),
    );
    fc.assert(
      fc.property(line, fc.array(fc.nat(), { maxLength: 20 }), (bytes, cuts) => {
        const { frames, drops, stats } = decodeAll(chunked(bytes, cuts));
        expect(stats.bytesIn).toBe(bytes.length);
        expect(stats.framesIn).toBe(frames.length);
        const dropped = Object.values(stats.dropped).reduce((a, b) => a + b, 0);
        expect(dropped).toBe(drops.length);
        // one outcome per non-empty block ended by a 0x00
        let blocks = 0;
        for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0 && i > 0 && bytes[i - 1] !== 0) blocks++;
        expect(frames.length + drops.length).toBe(blocks);
      }),
      runs(2000),
    );
  });

  it('frames with garbage between them, in any chunking, come out intact and in order', () => {
    // garbage that cannot end inside a frame: the next frame's leading 0x00 ends it
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.uint8Array({ maxLength: 40 }), frameArb), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (items, cuts) => {
          const bytes = concat(items.flatMap(([garbage, f]) => [garbage, encodeFrame(f)]));
          const { frames } = decodeAll(chunked(bytes, cuts));
          expect(frames).toEqual(items.map(([, f]) => f));
        },
      ),
      runs(1000),
    );
  });

  it('a frame cut short by line noise is dropped, and the next frame still arrives', () => {
    fc.assert(
      fc.property(frameArb, frameArb, fc.nat(), (a, b, cut) => {
        const wa = encodeFrame(a);
        const cutAt = 1 + (cut % (wa.length - 2)); // keep the leading 0x00, lose the closing one and more
        const bytes = concat([wa.subarray(0, cutAt), encodeFrame(b)]);
        const { frames } = decodeAll([bytes]);
        expect(frames).toEqual([b]);
      }),
      runs(1000),
    );
  });
});
