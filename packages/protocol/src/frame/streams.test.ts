import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame, type Frame, FrameType } from './frame.js';
import { createFrameDecoder, createFrameEncoder, FrameDecoder } from './streams.js';

const frame = (seq: number, n = 40): Frame => ({
  type: FrameType.DATA,
  session: 9,
  seq,
  ack: 0,
  sack: 0,
  payload: Uint8Array.from({ length: n }, (_, i) => (i * seq + 3) & 0xff),
});

function decodeAll(chunks: Uint8Array[]): { frames: Frame[]; decoder: FrameDecoder } {
  const frames: Frame[] = [];
  const decoder = new FrameDecoder((f) => frames.push(f));
  for (const c of chunks) decoder.push(c);
  return { frames, decoder };
}

const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

describe('frame streams', () => {
  it('pipe frames through encoder and decoder streams unchanged', async () => {
    const sent = [frame(1), frame(2, 0), frame(3, 1152)];
    const decoder = createFrameDecoder();
    const out: Frame[] = [];
    await new ReadableStream<Frame>({
      start(c) {
        for (const f of sent) c.enqueue(f);
        c.close();
      },
    })
      .pipeThrough(createFrameEncoder())
      .pipeThrough(decoder)
      .pipeTo(new WritableStream({ write: (f) => void out.push(f) }));
    expect(out).toEqual(sent);
    expect(decoder.stats.framesIn).toBe(3);
  });

  it('resyncs after a garbage burst: the next intact frame is delivered, no extra frame lost', () => {
    const garbage = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 1) & 0xff || 7);
    const { frames, decoder } = decodeAll([
      concat([encodeFrame(frame(1)), garbage, encodeFrame(frame(2)), encodeFrame(frame(3))]),
    ]);
    expect(frames.map((f) => f.seq)).toEqual([1, 2, 3]);
    expect(Object.values(decoder.stats.dropped).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
  });

  it('resyncs after a truncated frame: only the cut frame is lost', () => {
    const cut = encodeFrame(frame(2)).subarray(0, 25); // the line dropped the rest of frame 2
    const { frames } = decodeAll([
      concat([encodeFrame(frame(1)), cut, encodeFrame(frame(3)), encodeFrame(frame(4))]),
    ]);
    expect(frames.map((f) => f.seq)).toEqual([1, 3, 4]);
  });

  it('a run of non-zero bytes longer than any frame is dropped as oversize without growing memory', () => {
    const { frames, decoder } = decodeAll([new Uint8Array(20000).fill(0x55), encodeFrame(frame(5))]);
    expect(frames.map((f) => f.seq)).toEqual([5]);
    expect(decoder.stats.dropped.oversize).toBe(1);
  });

  it('any chunking of the byte stream gives the same frames', () => {
    const wire = concat([1, 2, 3, 4].map((s) => encodeFrame(frame(s, s * 100))));
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 200 }), (cuts) => {
        const chunks: Uint8Array[] = [];
        let at = 0;
        for (const c of cuts) {
          if (at >= wire.length) break;
          chunks.push(wire.subarray(at, at + c));
          at += c;
        }
        chunks.push(wire.subarray(at));
        expect(decodeAll(chunks).frames.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
      }),
      { numRuns: 300 },
    );
  });

  it('with random bit errors, inserted and dropped bytes, every delivered frame is one that was sent, intact', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed) => {
        let s = seed;
        const rnd = () => {
          s = (Math.imul(s, 1103515245) + 12345) >>> 0;
          return s / 2 ** 32;
        };
        const sent = Array.from({ length: 30 }, (_, i) => frame(i, 20 + ((i * 53) % 700)));
        const noisy: number[] = [];
        for (const b of concat(sent.map(encodeFrame))) {
          const r = rnd();
          if (r < 0.002) continue; // drop
          if (r < 0.004) noisy.push(Math.floor(rnd() * 256)); // insert
          noisy.push(rnd() < 0.001 ? b ^ (1 << Math.floor(rnd() * 8)) : b); // flip a bit
        }
        const { frames } = decodeAll([Uint8Array.from(noisy)]);
        for (const f of frames) expect(f).toEqual(sent[f.seq]);
        expect(new Set(frames.map((f) => f.seq)).size).toBe(frames.length);
      }),
      { numRuns: 100 },
    );
  });
});
