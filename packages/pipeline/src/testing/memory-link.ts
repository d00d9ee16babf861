/**
 * The host's end of a link to a memory board (`memory-board.ts`): messages go to the board in memory,
 * its answers come back on `messages`, and a failure (a reset, a dropped link) errors the stream.
 */

import { type HelloInfo, type Link, type LinkStats, TinypipeError } from '@tinypipe/protocol';

/** A link's counters before anything crossed it (memory links count what they carry from here). */
export const zeroLinkStats = (): LinkStats => ({
  framesSent: 0,
  framesReceived: 0,
  bytesSent: 0,
  bytesReceived: 0,
  retransmits: 0,
  crcFailures: 0,
  resyncs: 0,
  duplicates: 0,
  rttMs: 0,
});

/** The host's end of a link to a memory board (stats: the host's side). */
export class MemoryLink implements Link {
  readonly specificationVersion = 1 as const;
  readonly messages: ReadableStream<Uint8Array>;
  readonly #stats = zeroLinkStats();
  #out!: ReadableStreamDefaultController<Uint8Array>;
  #failure: TinypipeError | undefined;
  #closed = false;

  constructor(
    readonly peer: HelloInfo,
    readonly deliver: (link: MemoryLink, bytes: Uint8Array) => void,
  ) {
    this.messages = new ReadableStream({
      start: (c) => {
        this.#out = c;
      },
    });
  }

  get up(): boolean {
    return !this.#closed && !this.#failure;
  }

  async send(message: Uint8Array): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw new TinypipeError('LINK_DOWN', 'the link was closed');
    this.#stats.framesSent++;
    this.#stats.bytesSent += message.length;
    this.deliver(this, message.slice());
  }

  /** The board sends `bytes` to the host. */
  answer(bytes: Uint8Array): void {
    if (!this.up) return;
    this.#stats.framesReceived++;
    this.#stats.bytesReceived += bytes.length;
    this.#out.enqueue(bytes);
  }

  fail(e: TinypipeError): void {
    if (!this.up) return;
    this.#failure = e;
    this.#out.error(e);
  }

  stats(): LinkStats {
    return { ...this.#stats };
  }

  async close(): Promise<void> {
    if (!this.up) return;
    this.#closed = true;
    this.#out.close();
  }
}
