/**
 * Keeping the link alive (docs/protocol.md §4.2): PING after silence, PONG to every PING, TIMEOUT when
 * nothing arrives for too long; and the baud switch right after the handshake (§4.3).
 */
import { TinypipeError } from '@tinypipe/protocol';
import { type Acks, pingFrame, pongFrame } from './frames.js';
import type { Line } from './line.js';

export class Heartbeat {
  readonly #line: Line;
  readonly #session: number;
  readonly #acks: () => Acks;
  readonly #fail: (e: TinypipeError) => void;
  readonly #failed: () => boolean;
  #timer: unknown | undefined;

  constructor(
    line: Line,
    session: number,
    acks: () => Acks,
    fail: (e: TinypipeError) => void,
    failed: () => boolean,
  ) {
    this.#line = line;
    this.#session = session;
    this.#acks = acks;
    this.#fail = fail;
    this.#failed = failed;
  }

  ping(): void {
    this.#line.write(pingFrame(this.#session, this.#acks()));
  }

  pong(): void {
    this.#line.write(pongFrame(this.#session, this.#acks()));
  }

  /** Host: PING after `heartbeatMs` of sending nothing; TIMEOUT after `timeoutMs` of hearing nothing. */
  start(heartbeatMs: number, timeoutMs: number): void {
    if (heartbeatMs <= 0 || this.#failed()) return;
    const line = this.#line;
    const clock = line.clock;
    line.lastReceived = clock.now();
    const every = Math.max(1, Math.floor(heartbeatMs / 2));
    let lastTick = line.lastReceived;
    this.#timer = clock.setInterval(() => {
      const now = clock.now();
      const gap = now - lastTick;
      lastTick = now;
      // A tick this late means this thread was busy (a long synchronous task in the app): it sent no
      // PING meanwhile, and what the board sent is still unread behind the timers. That time is not the
      // board's silence; only the time this end was listening counts.
      if (gap > 2 * every + 50) line.lastReceived = Math.min(now - every, line.lastReceived + gap - every);
      if (now - line.lastReceived > timeoutMs) {
        this.#fail(
          new TinypipeError(
            'TIMEOUT',
            `nothing from the board for ${Math.round(now - line.lastReceived)} ms (limit ${timeoutMs} ms): it hangs, or its compute blocks its link longer than timeoutMs`,
          ),
        );
      } else if (now - line.lastSent >= heartbeatMs) {
        this.ping();
      }
    }, every);
  }

  stop(): void {
    this.#line.clock.clearInterval(this.#timer);
  }

  /** Host (§4.3): both ends switch right after HELLO_ACK; a PING must be answered at the new rate, else fall back. */
  async switchHost(baud: number, probeMs: number): Promise<void> {
    const transport = this.#line.transport;
    const clock = this.#line.clock;
    const old = transport.baudRate;
    await transport.setBaudRate!(baud);
    const answered = await new Promise<boolean>((resolve) => {
      const since = clock.now();
      const ping = clock.setInterval(() => this.ping(), 20);
      const check = clock.setInterval(() => {
        if (this.#line.lastReceived > since) done(true);
      }, 1);
      const give = clock.setTimeout(() => done(false), probeMs);
      const done = (ok: boolean) => {
        clock.clearInterval(ping);
        clock.clearInterval(check);
        clock.clearTimeout(give);
        resolve(ok);
      };
      this.ping();
    });
    if (!answered && old !== undefined) await transport.setBaudRate!(old);
  }

  /** Board (§4.3): switch once the HELLO_ACK has left; fall back when nothing valid arrives at the new rate. */
  async switchBoard(baud: number): Promise<void> {
    const line = this.#line;
    const transport = line.transport;
    const old = transport.baudRate;
    await line.ready;
    await transport.setBaudRate!(baud);
    const since = line.clock.now();
    line.clock.setTimeout(() => {
      if (line.lastReceived <= since && old !== undefined && !this.#failed())
        void transport.setBaudRate!(old);
    }, 500);
  }
}
