import {
  createTransportPair,
  encodeFrame,
  type Frame,
  FrameDecoder,
  FrameType,
  TinypipeError,
  type Transport,
} from '@tinypipe/protocol';
import { describe, expect, it, vi } from 'vitest';
import { createFaultyLinePair } from '../testing/faulty-line.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { ReliableLink } from './reliable-link.js';

const message = (i: number, n: number) => Uint8Array.from({ length: n }, (_, k) => (i * 131 + k * 7) & 0xff);

async function collect(stream: ReadableStream<Uint8Array>, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const reader = stream.getReader();
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    out.push(value);
  }
  reader.releaseLock();
  return out;
}

describe('ReliableLink', () => {
  it('carries messages both ways, in order, over a clean line', async () => {
    const [ta, tb] = createTransportPair();
    const a = new ReliableLink(ta);
    const b = new ReliableLink(tb);
    const fromA = Array.from({ length: 100 }, (_, i) => message(i, 1 + (i % 50)));
    const fromB = Array.from({ length: 50 }, (_, i) => message(i + 1000, 1152));
    const [gotB, gotA] = await Promise.all([
      collect(b.messages, fromA.length),
      collect(a.messages, fromB.length),
      Promise.all(fromA.map((m) => a.send(m))),
      Promise.all(fromB.map((m) => b.send(m))),
    ]);
    expect(gotB).toEqual(fromA);
    expect(gotA).toEqual(fromB);
    // on a lossless line only a (spurious, timing-caused) retransmission can produce a duplicate
    expect(a.stats().duplicates + b.stats().duplicates).toBeLessThanOrEqual(
      a.stats().retransmits + b.stats().retransmits,
    );
    await a.close();
    await b.close();
  });

  it('delivers everything exactly once, intact and in order, through bit errors, drops, inserts and garbage', async () => {
    // simulated time: the retransmission timers run on fake clocks, so the run is deterministic per seed
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    try {
      for (const seed of [7, 11, 12]) {
        const line = createFaultyLinePair({ ber: 1e-4, drop: 0.002, insert: 0.002, garbage: 0.0005, seed });
        const a = new ReliableLink(line.a, { minRtoMs: 2 });
        const b = new ReliableLink(line.b, { minRtoMs: 2 });
        const sent = Array.from({ length: 600 }, (_, i) => message(i, 64));
        let done = false;
        const run = Promise.all([
          collect(b.messages, sent.length),
          Promise.all(sent.map((m) => a.send(m))),
        ]).finally(() => {
          done = true;
        });
        for (let t = 0; t < 120_000 && !done; t++) await vi.advanceTimersByTimeAsync(1);
        const [got] = await run;
        expect(got, `seed ${seed}`).toEqual(sent);
        expect(a.stats().retransmits).toBeGreaterThan(0);
        expect(b.stats().resyncs).toBeGreaterThan(0);
        expect(b.stats().duplicates).toBeGreaterThanOrEqual(0);
        expect(
          line.stats.dropped + line.stats.inserted + line.stats.bitsFlipped + line.stats.garbageBursts,
        ).toBeGreaterThan(0);
        await a.close();
        await b.close();
      }
    } finally {
      vi.useRealTimers();
    }
  }, 120_000);

  it('declares LINK_DOWN when nobody answers, and fails later sends at once', async () => {
    const [ta] = createTransportPair(); // the other end never reads or answers
    const a = new ReliableLink(ta, { initialRtoMs: 2, minRtoMs: 1, maxRtoMs: 4, maxRetries: 3 });
    await expect(a.send(message(1, 10))).rejects.toMatchObject({ code: 'LINK_DOWN' });
    await expect(a.send(message(2, 10))).rejects.toMatchObject({ code: 'LINK_DOWN' });
  });

  it('detects a peer reboot (new session nonce) as PEER_RESET', async () => {
    const [ta, tb] = createTransportPair();
    const a = new ReliableLink(ta);
    const raw = tb.writable.getWriter();
    const data = (session: number, seq: number) =>
      encodeFrame({ type: FrameType.DATA, session, seq, ack: 0, sack: 0, payload: Uint8Array.of(seq) });
    await raw.write(data(100, 0));
    const reader = a.messages.getReader();
    expect(Array.from((await reader.read()).value!)).toEqual([0]);
    await raw.write(data(200, 0)); // the board came back with a new session
    const err = await reader.read().catch((e: unknown) => e);
    expect(TinypipeError.hasCode(err, 'PEER_RESET')).toBe(true);
  });

  it('refuses oversized messages and ends its stream on close', async () => {
    const [ta, tb] = createTransportPair();
    const a = new ReliableLink(ta);
    const b = new ReliableLink(tb);
    await expect(a.send(new Uint8Array(5000))).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    const reader = b.messages.getReader();
    await b.close();
    expect((await reader.read()).done).toBe(true);
    await a.close();
  });

  describe('timers (docs/protocol.md §4.0)', () => {
    /** A link on a virtual clock whose peer is scripted: `peer` sees every frame the link writes. */
    function scripted(transport: Transport, far: Transport, peer: (f: Frame, at: number) => void) {
      const clock = new VirtualClock();
      const link = new ReliableLink(transport, { clock, initialRtoMs: 50, maxRetries: 100 });
      const decoder = new FrameDecoder((f) => peer(f, clock.now()));
      void (async () => {
        const reader = far.readable.getReader();
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          decoder.push(value);
        }
      })().catch(() => {});
      const writer = far.writable.getWriter();
      /** ACK up to `seq` (inclusive; -1: nothing yet), plus `sack` (bit i: `seq + 2 + i` received). */
      const ack = (seq: number, sack = 0) =>
        writer.write(
          encodeFrame({
            type: FrameType.ACK,
            session: 9,
            seq: 0,
            ack: seq + 1,
            sack,
            payload: new Uint8Array(0),
          }),
        );
      return { clock, link, ack };
    }
    const settle = () => new Promise((r) => setImmediate(r));
    async function advance(clock: VirtualClock, ms: number) {
      for (let t = 0; t < ms; t++) {
        await settle(); // the peer reads what was written at this time
        clock.stall(1);
        await settle();
        clock.stall(0); // the timeouts' extra turn of the event loop
        await settle();
      }
    }

    it('a timeout backs the shared RTO off (RFC 6298 §5.5): a frame sent afterwards waits the doubled RTO', async () => {
      const [ta, tb] = createTransportPair();
      const sent: [number, number][] = []; // [seq, time] of every DATA the peer saw
      const { clock, link } = scripted(ta, tb, (f, at) => {
        if (f.type === FrameType.DATA) sent.push([f.seq, at]);
      });
      void link.send(Uint8Array.of(0)).catch(() => {});
      await advance(clock, 60); // seq 0 times out at 50: RTO 50 → 100
      void link.send(Uint8Array.of(1)).catch(() => {});
      await advance(clock, 150);
      const first = (seq: number, n: number) => sent.filter(([s]) => s === seq)[n]?.[1];
      expect(first(0, 1)).toBe(50);
      expect(first(1, 0)).toBe(60);
      // the old per-frame doubling resent seq 1 at 60 + 50 = 110: the shared RTO had never moved
      expect(first(1, 1)).toBe(60 + 100);
      // both frames timed out around the same RTO value: it doubled once for seq 0's first timeout, once
      // for seq 0's second (armed at 100) — not once more for seq 1 (armed at 100 too, before that)
      expect(first(0, 2)).toBe(50 + 100);
      await link.close();
    });

    it('a frame sent before one the peer acknowledges is lost: resent at once, not after the RTO', async () => {
      const [ta, tb] = createTransportPair();
      const sent: [number, number][] = []; // [seq, time] of every DATA the peer saw
      const { clock, link, ack } = scripted(ta, tb, (f, at) => {
        if (f.type === FrameType.DATA) sent.push([f.seq, at]);
      });
      const delivered = [0, 1, 2].map((i) => link.send(Uint8Array.of(i)));
      await advance(clock, 5);
      await ack(-1, 0b10); // seq 0 and 1 missing, seq 2 received: a serial line does not reorder
      await advance(clock, 1);
      const times = (seq: number) => sent.filter(([s]) => s === seq).map(([, at]) => at);
      expect(times(0)).toEqual([0, 5]);
      expect(times(1)).toEqual([0, 5]);
      await ack(-1, 0b10); // the same ACK again reveals nothing new: no more resends
      await advance(clock, 10);
      expect(times(0)).toEqual([0, 5]);
      expect(link.stats().retransmits).toBe(2);
      await ack(2);
      await Promise.all(delivered);
      // without the rule, the RTO (50) resends them at 50: `times(0)` is [0, 50]
      await link.close();
    });

    it('a timer that fires long after it was due (this end was not running) waits an RTO more before resending', async () => {
      const [ta, tb] = createTransportPair();
      const sent: [number, number][] = [];
      const { clock, link, ack } = scripted(ta, tb, (f, at) => {
        if (f.type === FrameType.DATA) sent.push([f.seq, at]);
      });
      const delivered = link.send(Uint8Array.of(7));
      await settle();
      clock.stall(300); // the thread is busy for 300 ms: the timer (due at 50) fires at 300
      await advance(clock, 5); // the peer, just as late, answers 5 ms later
      await ack(0);
      await advance(clock, 100);
      await delivered;
      // the old timer resent seq 0 at 301, before the answer; a loss after the stall is still resent
      expect(sent).toEqual([[0, 0]]);
      expect(link.stats().retransmits).toBe(0);
      void link.send(Uint8Array.of(8)).catch(() => {});
      await advance(clock, 200);
      expect(sent.filter(([seq]) => seq === 1).length).toBeGreaterThan(1);
      await link.close();
    });

    it('a transport faster than its nominal rate (a PTY): RTT is measured from the write, not clamped at 0', async () => {
      const [ta, tb] = createTransportPair();
      const rated: Transport = { ...ta, close: () => ta.close(), baudRate: 921_600 };
      const acks: number[] = [];
      const { clock, link, ack } = scripted(rated, tb, (f) => {
        if (f.type === FrameType.DATA) acks.push(f.seq);
      });
      // 1152-byte messages take 12.9 ms each at 921,600 baud by the link's estimate; this line is
      // instant, and the peer answers each after 30 ms
      const sending = Array.from({ length: 40 }, (_, i) => link.send(new Uint8Array(1152).fill(i)));
      let answered = 0;
      for (let t = 0; t < 2000 && answered < 40; t++) {
        await advance(clock, 30);
        const due = acks.splice(0);
        for (const seq of due) await ack(seq);
        answered += due.length;
        await settle();
      }
      await Promise.all(sending);
      expect(link.stats().retransmits).toBe(0);
      expect(link.stats().rttMs).toBeGreaterThan(20); // the old clamp gave samples of 0: SRTT → 0
      await link.close();
    });
  });
});
