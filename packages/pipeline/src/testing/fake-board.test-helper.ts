/** A board in memory, for tests of host-side code over a `Link` (test helper, not part of the package). */

import { TINY_CONFIG } from '@tinypipe/core/testing';
import type { HelloInfo, Link } from '@tinypipe/protocol';
import { decodeMessage, encodeMessage, type Message } from '@tinypipe/protocol';
import { zeroLinkStats } from './memory-board.js';

/**
 * A board holding the whole TINY_CONFIG model (`peer` overrides its HELLO): `answer` maps each message it
 * receives to the messages it sends back (raw bytes are sent as they are: a message that does not
 * decode); `push` sends one unasked.
 */
export function fakeBoard(
  peer: Partial<HelloInfo>,
  answer: (m: Message) => (Message | Uint8Array)[],
): Link & { push(m: Message): void } {
  let out!: ReadableStreamDefaultController<Uint8Array>;
  const stats = zeroLinkStats();
  return {
    push: (m) => queueMicrotask(() => out.enqueue(encodeMessage(m))),
    specificationVersion: 1,
    peer: {
      protocol: 2,
      role: 'board',
      board: 0,
      fingerprint: new Uint8Array(32).fill(3),
      layers: [0, TINY_CONFIG.nLayers],
      vocab: [0, TINY_CONFIG.vocabSize],
      maxPayload: 4096,
      streams: 2,
      caps: { embedding: true, classifier: true, sampler: false },
      baud: 0,
      ...peer,
    },
    messages: new ReadableStream({
      start: (c) => {
        out = c;
      },
    }),
    async send(bytes) {
      const replies = answer(decodeMessage(bytes));
      queueMicrotask(() => {
        for (const r of replies) out.enqueue(r instanceof Uint8Array ? r : encodeMessage(r));
      });
    },
    stats: () => stats,
    async close() {
      out.close();
    },
  };
}
