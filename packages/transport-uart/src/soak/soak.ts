/**
 * `runLinkSoak`: two `ReliableLink` endpoints through the fault-injecting line; every message carries its
 * index and a pattern derived from it, so the receiver can prove that nothing arrived corrupted,
 * twice, out of order, or not at all.
 */

import { ReliableLink, type ReliableLinkOptions } from '../link/reliable-link.js';
import { boardHello } from '../testing/board-hello.js';
import { createFaultyLinePair, type LineFaults } from '../testing/faulty-line.js';
import { VirtualClock } from '../testing/virtual-clock.js';

export interface SoakOptions extends LineFaults {
  /** Messages to send. Default 10,000. */
  frames?: number;
  /** Payload bytes per message (≥ 4). Default 32. Drop/insert rates are per byte, so keep frames small on bad lines. */
  payload?: number;
  link?: ReliableLinkOptions;
}

export interface SoakReport {
  frames: number;
  delivered: number;
  corruptDelivered: number;
  duplicatesDelivered: number;
  outOfOrder: number;
  lost: number;
  retransmits: number;
  crcFailures: number;
  /**
   * With `baud`: useful payload bits ÷ what the line could carry in the elapsed time (10 bits per byte) —
   * the throughput figure. Without: useful payload bytes ÷ all bytes sent (framing, headers, acks,
   * retransmissions).
   */
  lineUtilisation: number;
  /** Useful payload bytes per second, end to end. */
  payloadBytesPerSecond: number;
  elapsedMs: number;
}

/** The simulated board's side of the handshake. */
const SOAK_BOARD = boardHello({ caps: { embedding: false, classifier: false, sampler: false } });

function fill(index: number, n: number): Uint8Array {
  const m = new Uint8Array(n);
  new DataView(m.buffer).setUint32(0, index, true);
  for (let k = 4; k < n; k++) m[k] = (index * 131 + k * 7) & 0xff;
  return m;
}

export async function runLinkSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const frames = options.frames ?? 10_000;
  const size = Math.max(4, options.payload ?? 32);
  const line = createFaultyLinePair({ ...options, pace: options.baud !== undefined });
  // Unpaced, the line is in memory and time is simulated (VirtualClock): retransmission timeouts cost
  // nothing, so a million messages through a lossy line take minutes; paced, time is real (throughput).
  const clock = options.baud === undefined ? new VirtualClock() : undefined;
  const link: ReliableLinkOptions = { ...(clock ? { clock } : {}), ...options.link };
  let finished = false;
  const driving = clock?.run(() => finished);
  // the host's heartbeat is off: a soak on a very bad line may legitimately go quiet for a while
  const [a, b] = await Promise.all([
    ReliableLink.connect(line.a, { ...link, heartbeatMs: 0, handshakeTimeoutMs: 60_000 }),
    ReliableLink.accept(line.b, SOAK_BOARD, link),
  ]);
  const started = performance.now();
  const seen = new Set<number>();
  let delivered = 0;
  let corrupt = 0;
  let duplicates = 0;
  let outOfOrder = 0;
  let next = 0;
  const receiving = (async () => {
    const reader = b.messages.getReader();
    try {
      while (seen.size < frames) {
        const { value, done } = await reader.read();
        if (done) break;
        delivered++;
        const index =
          value.length >= 4 ? new DataView(value.buffer, value.byteOffset).getUint32(0, true) : -1;
        const expected = index >= 0 && index < frames ? fill(index, size) : undefined;
        if (!expected || expected.length !== value.length || expected.some((v, k) => v !== value[k])) {
          corrupt++;
          continue;
        }
        if (seen.has(index)) duplicates++;
        seen.add(index);
        if (index !== next) outOfOrder++;
        next = index + 1;
      }
    } finally {
      reader.releaseLock();
    }
  })();
  // at most 64 sends outstanding: a million-message soak needs bounded memory, and the window is 8 anyway
  const sending = (async () => {
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < frames; i++) {
      pending.push(a.send(fill(i, size)).catch(() => {}));
      if (pending.length >= 64) await pending.shift();
    }
    await Promise.all(pending);
  })();
  // every send settles (acknowledged, or rejected when the link went down); then the receiver has had
  // everything it will get: stop it instead of waiting for messages that cannot come
  await sending;
  await b.close();
  await receiving.catch(() => {});
  const elapsedMs = performance.now() - started;
  const sa = a.stats();
  const sb = b.stats();
  await a.close();
  finished = true;
  await driving;
  return {
    frames,
    delivered,
    corruptDelivered: corrupt,
    duplicatesDelivered: duplicates,
    outOfOrder,
    lost: frames - seen.size,
    retransmits: sa.retransmits + sb.retransmits,
    crcFailures: sa.crcFailures + sb.crcFailures,
    lineUtilisation:
      options.baud !== undefined
        ? (seen.size * size * 10) / ((options.baud * elapsedMs) / 1000)
        : (seen.size * size) / (sa.bytesSent + sb.bytesSent),
    payloadBytesPerSecond: (seen.size * size) / (elapsedMs / 1000),
    elapsedMs,
  };
}
