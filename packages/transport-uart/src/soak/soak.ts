/**
 * `runLinkSoak`: two `ReliableLink` endpoints through the fault-injecting line; every message carries its
 * index and a pattern derived from it, so the receiver can prove that nothing arrived corrupted,
 * twice, out of order, or not at all.
 */

import { ReliableLink, type ReliableLinkOptions } from '../link/reliable-link.js';
import { createFaultyLinePair, type LineFaults } from '../testing/faulty-line.js';

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
  /** Useful payload bytes ÷ all bytes that crossed the line (framing, headers, acks, retransmissions). */
  lineUtilisation: number;
  elapsedMs: number;
}

function fill(index: number, n: number): Uint8Array {
  const m = new Uint8Array(n);
  new DataView(m.buffer).setUint32(0, index, true);
  for (let k = 4; k < n; k++) m[k] = (index * 131 + k * 7) & 0xff;
  return m;
}

export async function runLinkSoak(options: SoakOptions = {}): Promise<SoakReport> {
  const frames = options.frames ?? 10_000;
  const size = Math.max(4, options.payload ?? 32);
  const line = createFaultyLinePair(options);
  const a = new ReliableLink(line.a, options.link);
  const b = new ReliableLink(line.b, options.link);
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
  const sending = Promise.allSettled(Array.from({ length: frames }, (_, i) => a.send(fill(i, size))));
  // every send settles (acknowledged, or rejected when the link went down); then the receiver has had
  // everything it will get: stop it instead of waiting for messages that cannot come
  await sending;
  await b.close();
  await receiving.catch(() => {});
  const elapsedMs = performance.now() - started;
  const sa = a.stats();
  const sb = b.stats();
  await a.close();
  return {
    frames,
    delivered,
    corruptDelivered: corrupt,
    duplicatesDelivered: duplicates,
    outOfOrder,
    lost: frames - seen.size,
    retransmits: sa.retransmits + sb.retransmits,
    crcFailures: sa.crcFailures + sb.crcFailures,
    lineUtilisation: (frames * size) / (sa.bytesSent + sb.bytesSent),
    elapsedMs,
  };
}
