/**
 * `memoryChain`: memory boards wired board to board (docs/protocol.md §4.4, chain), as the C boards' serve.c
 * does it — START and END travel down the chain, each board's ACTIVATION goes to the next one, and the
 * results (the last board's answer, every board's HASHES and ERRORs, STATS) come out of the last board's
 * second port. The host holds two links: `connect('first')` and `connect('second')`.
 */
import { decodeMessage, encodeMessage, type Link, TinypipeError } from '@tinypipe/protocol';
import type { MemoryBoard } from './memory-board.js';
import { MemoryLink } from './memory-link.js';

/** The host's two ends of a chain of memory boards. */
export interface MemoryChain {
  /**
   * A new link to the chain's first board (`'first'`: what the host sends goes in there) or from the last
   * board's second port (`'second'`: the answers come out there). Reconnecting an end reconnects its board
   * (after its `reset()`); the previous link of that end is closed.
   */
  connect(end: 'first' | 'second'): Link;
}

/** ERROR status a board reports when the next board in the chain stopped answering (TP_E_NEXT_SILENT). */
const NEXT_SILENT = 15;

/** A chain of `boards` (each `memoryBoard(…, { board: i })`, in chain order). */
export function memoryChain(boards: readonly MemoryBoard[]): MemoryChain {
  if (boards.length === 0) throw new TinypipeError('INVALID_ARGUMENT', 'a chain needs at least one board');
  const last = boards.length - 1;
  const inner: Link[] = boards.map((b) => b.connect());
  const ends: { first: MemoryLink | undefined; second: MemoryLink | undefined } = {
    first: undefined,
    second: undefined,
  };
  const toHost = (bytes: Uint8Array) => ends.second?.answer(bytes);
  const send = (i: number, bytes: Uint8Array) => inner[i]!.send(bytes).catch(() => {}); // a dead board drops it

  /** What board i answers: an activation goes on to the next board, anything else towards the host. */
  const read = async (i: number, link: Link) => {
    const reader = link.messages.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || inner[i] !== link) return;
        const m = decodeMessage(value);
        if (m.kind === 'activation' && i < last) void send(i + 1, value);
        else toHost(value);
      }
    } catch (e) {
      if (inner[i] !== link) return;
      const error = TinypipeError.isInstance(e) ? e : new TinypipeError('LINK_DOWN', String(e));
      if (i === 0) ends.first?.fail(error);
      if (i === last) ends.second?.fail(error);
      // a middle board went silent: the board before it says so, as a C board does
      if (i !== 0 && i !== last)
        ends.first?.answer(
          encodeMessage({
            kind: 'error',
            stream: 0xffff,
            code: NEXT_SILENT,
            text: `board ${i - 1}: the next board in the chain stopped answering`,
          }),
        );
    } finally {
      reader.releaseLock();
    }
  };
  for (const [i, l] of inner.entries()) void read(i, l);

  /** What the host sends on the first link: START, END and STATS to every board, the rest to board 0. */
  const route = (bytes: Uint8Array) => {
    const m = decodeMessage(bytes);
    if (m.kind === 'start')
      // the sample flag is for the board holding the classifier (serve.c); a chain has no slices
      for (let i = 0; i <= last; i++) {
        const sample = m.sample && boards[i]!.hello.caps.classifier;
        void send(i, encodeMessage({ ...m, sample, sliced: false }));
      }
    else if (m.kind === 'end' || m.kind === 'stats-request')
      for (let i = 0; i <= last; i++) void send(i, bytes);
    else void send(0, bytes);
  };

  return {
    connect(end) {
      const i = end === 'first' ? 0 : last;
      if (ends[end]) {
        // a reconnect: the board behind this end (e.g. after its reset), and a new link to it
        void ends[end]!.close();
        inner[i] = boards[i]!.connect();
        void read(i, inner[i]!);
      }
      const link = new MemoryLink(boards[i]!.hello, (_, bytes) => {
        if (end === 'first') route(bytes);
      });
      ends[end] = link;
      return link;
    },
  };
}
