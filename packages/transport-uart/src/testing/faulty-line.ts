/**
 * A fault-injecting serial line for testing links: two connected transports whose bytes suffer bit
 * errors, drops, inserted bytes and garbage bursts, from a seeded PRNG (the same seed, the same faults).
 * With `baud`, each end has a line rate it can change (`setBaudRate`): bytes cross intact only when both
 * ends use the same rate — otherwise they arrive as noise, as on a real UART — and with `pace` they take
 * 10 bits per byte of line time, so throughput figures mean what they would on a wire.
 */
import { type Transport, transportFromStreams } from '@tinypipe/protocol';

export interface LineFaults {
  /** Probability that each bit is flipped. */
  ber?: number;
  /** Probability that each byte is lost. */
  drop?: number;
  /** Probability that a random byte is inserted before each byte. */
  insert?: number;
  /** Probability, per byte, that a burst of 8–64 random bytes is inserted. */
  garbage?: number;
  seed?: number;
  /** Initial line rate of both ends (baud). Without it the ends have no rate and no `setBaudRate`. */
  baud?: number;
  /** Deliver bytes no faster than the line rate, 10 bits per byte (8N1). Needs `baud`. */
  pace?: boolean;
}

export interface LineStats {
  bytes: number;
  bitsFlipped: number;
  dropped: number;
  inserted: number;
  garbageBursts: number;
}

/**
 * splitmix32-style generator (a Weyl sequence through a strong 32-bit mixer): deterministic, fast, and
 * without the short-range correlations of plain xorshift32, which produced implausible runs of damaged
 * frames here. Not for cryptography.
 */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

interface End {
  baud: number | undefined;
}

/**
 * One direction of the line. With `pace` each chunk's last byte arrives when a UART would have shifted
 * it out: max(write time, line free) + 10 bits per byte ÷ baud, the schedule fixed when the chunk is
 * written (as the sender's link estimates it, docs/protocol.md §4.0), so a late timer delays a
 * delivery but never loses line time.
 */
function faultStream(
  f: Required<Omit<LineFaults, 'baud'>>,
  stats: LineStats,
  rnd: () => number,
  from: End,
  to: End,
): { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> } {
  const byteFlip = 1 - (1 - f.ber) ** 8; // chance that a byte has at least one flipped bit
  let out!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>(
    {
      start(c) {
        out = c;
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
  );
  let lineFreeAt = 0; // when the transmitter finishes the bytes already written (pacing)
  const due: { at: number; bytes: Uint8Array }[] = []; // in order of arrival time
  let timer: ReturnType<typeof setTimeout> | undefined;
  let drained: (() => void) | undefined;
  const deliver = () => {
    timer = undefined;
    const now = performance.now();
    try {
      while (due.length > 0 && due[0]!.at <= now) {
        const { bytes } = due.shift()!;
        if (bytes.length) out.enqueue(bytes);
      }
    } catch {
      due.length = 0; // the reading end was cancelled: the rest of the line goes nowhere
    }
    if (due.length > 0) timer = setTimeout(deliver, due[0]!.at - now);
    else drained?.();
  };
  const damage = (chunk: Uint8Array): Uint8Array => {
    const bytes: number[] = [];
    if (from.baud !== to.baud) {
      // a receiver at another rate samples noise: fewer or more bytes, none of them meaningful
      const n = Math.max(1, Math.round((chunk.length * (to.baud ?? 1)) / (from.baud ?? 1)));
      for (let i = 0; i < n; i++) bytes.push(Math.floor(rnd() * 256));
      stats.bytes += chunk.length;
      return Uint8Array.from(bytes);
    }
    for (const b of chunk) {
      stats.bytes++;
      if (f.garbage > 0 && rnd() < f.garbage) {
        stats.garbageBursts++;
        const n = 8 + Math.floor(rnd() * 57);
        for (let i = 0; i < n; i++) bytes.push(Math.floor(rnd() * 256));
      }
      if (f.insert > 0 && rnd() < f.insert) {
        stats.inserted++;
        bytes.push(Math.floor(rnd() * 256));
      }
      if (f.drop > 0 && rnd() < f.drop) {
        stats.dropped++;
        continue;
      }
      let v = b;
      if (byteFlip > 0 && rnd() < byteFlip) {
        v ^= 1 << Math.floor(rnd() * 8);
        stats.bitsFlipped++;
      }
      bytes.push(v);
    }
    return Uint8Array.from(bytes);
  };
  const writable = new WritableStream<Uint8Array>(
    {
      // returns at once: the next chunk is scheduled when it is written, not when this one arrives
      write(chunk) {
        const bytes = damage(chunk);
        if (!(f.pace && from.baud)) {
          if (bytes.length) out.enqueue(bytes);
          return;
        }
        const now = performance.now();
        lineFreeAt = Math.max(now, lineFreeAt) + (chunk.length * 10 * 1000) / from.baud;
        due.push({ at: lineFreeAt, bytes });
        if (timer === undefined) timer = setTimeout(deliver, lineFreeAt - now);
      },
      async close() {
        if (due.length > 0) await new Promise<void>((r) => (drained = r));
        out.close();
      },
      abort(reason) {
        clearTimeout(timer);
        out.error(reason);
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
  );
  return { readable, writable };
}

/** Two transports joined by a faulty line (each direction has its own faults, from one seed). */
export function createFaultyLinePair(faults: LineFaults = {}): {
  a: Transport;
  b: Transport;
  stats: LineStats;
} {
  const { baud, ...rest } = faults;
  const f = { ber: 0, drop: 0, insert: 0, garbage: 0, seed: 1, pace: false, ...rest };
  const stats: LineStats = { bytes: 0, bitsFlipped: 0, dropped: 0, inserted: 0, garbageBursts: 0 };
  const rnd = prng(f.seed);
  const endA: End = { baud };
  const endB: End = { baud };
  const ab = faultStream(f, stats, rnd, endA, endB);
  const ba = faultStream(f, stats, rnd, endB, endA);
  const withRate = (t: Transport, end: End): Transport =>
    baud === undefined
      ? t
      : {
          specificationVersion: 1,
          readable: t.readable,
          writable: t.writable,
          close: () => t.close(),
          get baudRate() {
            return end.baud;
          },
          async setBaudRate(rate: number) {
            end.baud = rate;
          },
        };
  return {
    a: withRate(transportFromStreams(ba.readable, ab.writable), endA),
    b: withRate(transportFromStreams(ab.readable, ba.writable), endB),
    stats,
  };
}
