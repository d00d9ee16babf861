import { encodeFrame, type Frame, FrameDecoder, FrameType } from '@tinypipe/protocol';
import { transportContract } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { createFaultyLinePair } from './faulty-line.js';

transportContract(
  'faulty line with no faults',
  () => {
    const { a, b } = createFaultyLinePair();
    return [a, b];
  },
  { describe, it, expect },
);

describe('createFaultyLinePair', () => {
  async function pass(faults: Parameters<typeof createFaultyLinePair>[0], frames: number) {
    const line = createFaultyLinePair(faults);
    const got: Frame[] = [];
    const decoder = new FrameDecoder((f) => got.push(f));
    const writer = line.a.writable.getWriter();
    const reader = line.b.readable.getReader();
    const sent = Array.from({ length: frames }, (_, i) => ({
      type: FrameType.DATA,
      session: 1,
      seq: i,
      ack: 0,
      sack: 0,
      payload: new Uint8Array(64).fill(i & 0xff),
    })) as Frame[];
    for (const f of sent) await writer.write(encodeFrame(f));
    await writer.close();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      decoder.push(value);
    }
    return { line, got, sent, decoder };
  }

  it('injects each kind of fault at about the asked rate, deterministically per seed', async () => {
    const faults = { ber: 1e-3, drop: 0.01, insert: 0.01, garbage: 0.002, seed: 5 };
    const one = await pass(faults, 300);
    const two = await pass(faults, 300);
    expect(one.line.stats).toEqual(two.line.stats);
    const bytes = one.line.stats.bytes;
    expect(one.line.stats.dropped / bytes).toBeGreaterThan(0.005);
    expect(one.line.stats.dropped / bytes).toBeLessThan(0.02);
    expect(one.line.stats.inserted / bytes).toBeGreaterThan(0.005);
    expect(one.line.stats.bitsFlipped / (bytes * 8)).toBeGreaterThan(0.0005);
    expect(one.line.stats.garbageBursts).toBeGreaterThan(0);
    // the frame layer never delivers a damaged frame, whatever the line did
    for (const f of one.got) expect(f).toEqual(one.sent[f.seq]);
    expect(one.got.length).toBeLessThan(300);
  });

  it('passes everything through unchanged with no faults', async () => {
    const r = await pass({}, 50);
    expect(r.got).toEqual(r.sent);
  });

  it('paces from write time like a UART: a busy event loop delays deliveries but loses no line time', async () => {
    const line = createFaultyLinePair({ baud: 921_600, pace: true });
    const writer = line.a.writable.getWriter();
    const reader = line.b.readable.getReader();
    const start = performance.now();
    for (let i = 0; i < 40; i++) void writer.write(new Uint8Array(1152).fill(i));
    await new Promise((r) => setImmediate(r)); // the writes reach the line
    while (performance.now() - start < 1000); // the thread is busy: the line keeps shifting bits out
    let got = 0;
    while (got < 40 * 1152) got += (await reader.read()).value!.length;
    const elapsed = performance.now() - start;
    // 40 × 1152 bytes × 10 bits ÷ 921,600 baud = 500 ms of line time, over before the busy second ends:
    // everything is there when the thread is free. A schedule restarted when the line got to each chunk
    // began only after the busy second: ≥ 1,500 ms. 400 ms of slack for a loaded machine's scheduling.
    expect(elapsed).toBeGreaterThanOrEqual(1000);
    expect(elapsed).toBeLessThan(1400);
  });
});
