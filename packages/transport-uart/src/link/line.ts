/**
 * The sending half of the byte transport: encodes frames, writes them, and estimates when each one's
 * last byte leaves the line (§4.0); it also keeps when this end last sent and last received.
 */
import { encodeFrame, type Frame, TinypipeError, type Transport } from '@tinypipe/protocol';
import type { LinkClock } from './clock.js';

export class Line {
  framesSent = 0;
  bytesSent = 0;
  lastSent = 0;
  lastReceived = 0;
  /** When the bytes queued so far will have left (transports with a line rate; see `write`). */
  #freeAt = 0;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(
    readonly transport: Transport,
    readonly clock: LinkClock,
    readonly onFailure: (e: TinypipeError) => void,
  ) {
    this.#writer = transport.writable.getWriter();
  }

  /**
   * Queues a frame for the transport; returns when its last byte will have left (§4.0): on a
   * transport with a line rate frames queue behind each other at 10 bits per byte, as a UART sends them.
   */
  write(frame: Frame): number {
    const bytes = encodeFrame(frame);
    const now = this.clock.now();
    this.lastSent = now;
    this.framesSent++;
    this.bytesSent += bytes.length;
    const baud = this.transport.baudRate;
    this.#freeAt = baud ? Math.max(now, this.#freeAt) + (bytes.length * 10 * 1000) / baud : now;
    this.#writer.write(bytes).catch((cause) => {
      this.onFailure(new TinypipeError('PORT_DISCONNECTED', 'writing to the transport failed', { cause }));
    });
    return this.#freeAt;
  }

  /** Something came back before the estimated departure: what was queued has left by `now`. */
  leftBy(now: number): void {
    this.#freeAt = Math.min(this.#freeAt, now);
  }

  /** Resolves when the transport takes more (what was written so far has been handed on). */
  get ready(): Promise<void> {
    return this.#writer.ready;
  }

  /** Flushes what was queued, but a transport whose far end vanished may never finish: waits `limitMs`. */
  async flush(limitMs: number): Promise<void> {
    let timer: unknown;
    const flushed = await Promise.race([
      this.#writer.close().then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => {
        timer = this.clock.setTimeout(() => r(false), limitMs);
      }),
    ]);
    this.clock.clearTimeout(timer);
    if (flushed) this.#writer.releaseLock();
  }
}
