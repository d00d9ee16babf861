/**
 * A reliable, ordered message link over any byte `Transport` (docs/protocol.md §4): selective-repeat
 * ARQ with a window of DATA frames, cumulative + selective acknowledgements, an adaptive retransmission
 * timeout (RFC 6298 with Karn's rule), bounded retries → LINK_DOWN, duplicates re-acknowledged and never
 * delivered twice, peer-reboot detection through the session nonce → PEER_RESET; the HELLO handshake
 * (PROTOCOL_MISMATCH / WRONG_MODEL), the host's heartbeat (TIMEOUT) and the optional baud switch.
 *
 *   host:   const link = await ReliableLink.connect(transport, { expect: { fingerprint, layers } });
 *   board:  const link = await ReliableLink.accept(transport, boardHello);   (a simulated board in TS)
 *
 * This class composes the parts: arq.ts (send and receive windows), handshake.ts (§4.1), heartbeat.ts
 * (§4.2, §4.3), frames.ts (every frame it sends) and line.ts (the writing end of the transport).
 */
import {
  type Frame,
  FrameDecoder,
  FrameType,
  type HelloInfo,
  type Link,
  type LinkStats,
  MAX_PAYLOAD,
  newDecoderStats,
  TinypipeError,
  type Transport,
} from '@tinypipe/protocol';
import { Arq } from './arq.js';
import { type LinkClock, systemClock } from './clock.js';
import { MOD } from './frames.js';
import {
  acceptBoard,
  type BoardHandshakeOptions,
  connectHost,
  type HandshakeContext,
  type HandshakeListener,
  type HostHandshakeOptions,
} from './handshake.js';
import { Heartbeat } from './heartbeat.js';
import { Line } from './line.js';

export { type LinkClock, systemClock } from './clock.js';

export interface ReliableLinkOptions {
  /** DATA frames in flight per direction (≤ 16, the width of the selective ack). Default 8. */
  window?: number;
  /** Retransmissions of one frame before the link is declared down. Default 12. */
  maxRetries?: number;
  /**
   * Retransmission timeout bounds and start value, in ms (docs/protocol.md §4.0). Defaults 20, 2000 and
   * 50. A lost frame is mostly resent before its RTO, as soon as a later frame is acknowledged; the RTO
   * is left for losses nothing later reveals (a lone request).
   */
  minRtoMs?: number;
  maxRtoMs?: number;
  initialRtoMs?: number;
  /** This end's session nonce (default: random). */
  session?: number;
  /** Host: send PING after this much silence (ms; 0 = no heartbeat). Default 500. */
  heartbeatMs?: number;
  /** Host: nothing received for this long (ms) → TIMEOUT. Default 2000. */
  timeoutMs?: number;
  /** Time and timers (default: the platform's); a simulated clock runs long soaks in seconds. */
  clock?: LinkClock;
}

export interface ConnectOptions extends ReliableLinkOptions, HostHandshakeOptions {
  /** After a baud switch, a PONG must arrive within this long (ms) or both fall back. Default 200. */
  baudProbeMs?: number;
}

export interface AcceptOptions extends ReliableLinkOptions, BoardHandshakeOptions {}

type Role = 'raw' | 'host' | 'board';

/** How long `close` waits for what was queued to be written (ms). */
const FLUSH_LIMIT_MS = 1000;

export class ReliableLink implements Link {
  readonly specificationVersion = 1 as const;
  readonly messages: ReadableStream<Uint8Array>;
  /** The other end's HELLO (after `connect` / `accept`). */
  peer: HelloInfo | undefined;
  readonly #transport: Transport;
  readonly #line: Line;
  readonly #arq: Arq;
  readonly #heartbeat: Heartbeat;
  readonly #decoder: FrameDecoder;
  readonly #session: number;
  #peerSession: number | undefined;
  #deliver!: ReadableStreamDefaultController<Uint8Array>;
  readonly #role: Role;
  #open: boolean;
  #failure: TinypipeError | undefined;
  #handshake: HandshakeListener | undefined;
  /** Board: the HELLO_ACK that accepted the host, answered again to a resent HELLO. */
  #helloAck: Frame | undefined;
  readonly #heartbeatMs: number;
  readonly #timeoutMs: number;
  readonly #onFail: ((e: TinypipeError) => void)[] = [];
  readonly #clock: LinkClock;

  /**
   * A link whose two ends agreed out of band (no handshake, no heartbeat): for tests and for transports
   * that are a single session by construction. Boards and hosts use `accept` and `connect`.
   */
  constructor(transport: Transport, options: ReliableLinkOptions = {}, /** @internal */ role: Role = 'raw') {
    this.#role = role;
    this.#clock = options.clock ?? systemClock;
    this.#open = this.#role === 'raw';
    this.#heartbeatMs = options.heartbeatMs ?? 500;
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#transport = transport;
    this.#session = options.session ?? Math.floor(Math.random() * MOD);
    const fail = (e: TinypipeError) => this.#fail(e);
    const failed = () => this.#failure !== undefined;
    this.#line = new Line(transport, this.#clock, fail);
    this.#arq = new Arq(
      this.#line,
      this.#session,
      {
        window: Math.min(16, Math.max(1, options.window ?? 8)),
        maxRetries: options.maxRetries ?? 12,
        minRto: options.minRtoMs ?? 20,
        maxRto: options.maxRtoMs ?? 2000,
        initialRto: options.initialRtoMs ?? 50,
      },
      { deliver: (m) => this.#deliver.enqueue(m), fail, failed },
    );
    this.#heartbeat = new Heartbeat(this.#line, this.#session, () => this.#arq.acks(), fail, failed);
    this.#decoder = new FrameDecoder(
      (f) => this.#onFrame(f),
      newDecoderStats(),
      (reason) => this.#handshake?.onDrop(reason),
    );
    this.messages = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#deliver = controller;
      },
    });
    void this.#readLoop();
  }

  /**
   * Host side: handshakes with the board on `transport` (HELLO until HELLO_ACK, §4.1), checks it holds
   * what `options.expect` says, optionally switches baud (§4.3), then keeps the link alive with PINGs.
   * Rejects with PROTOCOL_MISMATCH, WRONG_MODEL or TIMEOUT — and closes the transport — when it cannot.
   */
  static async connect(transport: Transport, options: ConnectOptions = {}): Promise<ReliableLink> {
    const link = new ReliableLink(transport, options, 'host');
    try {
      const proposed = await connectHost(link.#handshakeContext(), options);
      if (proposed > 0 && link.peer!.baud === proposed)
        await link.#heartbeat.switchHost(proposed, options.baudProbeMs ?? 200);
      link.#heartbeat.start(link.#heartbeatMs, link.#timeoutMs);
      return link;
    } catch (e) {
      await link.close();
      throw e;
    }
  }

  /**
   * Board side (a board simulated in TypeScript, tests): answers HELLOs with `board` and resolves on the
   * first host it accepts. One session: a host that restarts afterwards fails this link with PEER_RESET.
   */
  static async accept(
    transport: Transport,
    board: HelloInfo,
    options: AcceptOptions = {},
  ): Promise<ReliableLink> {
    const link = new ReliableLink(transport, options, 'board');
    const switchTo = await acceptBoard(link.#handshakeContext(), board, options);
    if (switchTo > 0) await link.#heartbeat.switchBoard(switchTo);
    return link;
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (!this.#open) {
      return Promise.reject(
        new TinypipeError('INVALID_ARGUMENT', 'the link is not open: the handshake is not done'),
      );
    }
    if (message.length > MAX_PAYLOAD) {
      return Promise.reject(
        new TinypipeError(
          'PAYLOAD_TOO_LARGE',
          `message of ${message.length} bytes exceeds the link's maximum ${MAX_PAYLOAD}`,
        ),
      );
    }
    return this.#arq.send(message);
  }

  stats(): LinkStats {
    const d = this.#decoder.stats;
    return {
      framesSent: this.#line.framesSent,
      framesReceived: d.framesIn,
      bytesSent: this.#line.bytesSent,
      bytesReceived: d.bytesIn,
      retransmits: this.#arq.retransmits,
      crcFailures: d.dropped.crc,
      resyncs: Object.values(d.dropped).reduce((a, b) => a + b, 0),
      duplicates: this.#arq.duplicates,
      rttMs: this.#arq.srtt,
    };
  }

  async close(): Promise<void> {
    this.#fail(new TinypipeError('LINK_DOWN', 'the link was closed'), false);
    this.#handshake = undefined;
    // flush what was queued, but a transport whose far end vanished may never finish: give it a second
    await this.#line.flush(FLUSH_LIMIT_MS);
    await this.#transport.close();
  }

  // ---- receiving ----

  async #readLoop(): Promise<void> {
    const reader = this.#transport.readable.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        this.#decoder.push(value);
        if (this.#failure) break;
      }
      this.#fail(new TinypipeError('PORT_DISCONNECTED', 'the transport closed'));
    } catch (cause) {
      this.#fail(new TinypipeError('PORT_DISCONNECTED', 'reading from the transport failed', { cause }));
    } finally {
      reader.releaseLock();
    }
  }

  #onFrame(f: Frame): void {
    if (this.#failure) return;
    this.#line.lastReceived = this.#clock.now();
    if (this.#handshake) {
      this.#handshake.onFrame(f);
      return;
    }
    if (!this.#open) return;
    if (f.type === FrameType.HELLO && this.#helloAck && f.session === this.#peerSession) {
      this.#line.write(this.#helloAck); // the host resent HELLO: our HELLO_ACK was lost, answer again
      return;
    }
    if (this.#peerSession === undefined) this.#peerSession = f.session;
    else if (f.session !== this.#peerSession) {
      this.#fail(
        new TinypipeError('PEER_RESET', `the peer restarted (session ${this.#peerSession} → ${f.session})`),
      );
      return;
    }
    this.#arq.acknowledge(f.ack, f.sack);
    if (f.type === FrameType.PING) this.#heartbeat.pong();
    if (f.type === FrameType.DATA) this.#arq.receive(f);
  }

  // ---- handshake (§4.1) ----

  #handshakeContext(): HandshakeContext {
    return {
      line: this.#line,
      session: this.#session,
      until: (start) => this.#until(start),
      listen: (listener) => {
        this.#handshake = listener;
      },
      open: (peer, peerSession, helloAck) => {
        this.peer = peer;
        this.#peerSession = peerSession;
        if (helloAck) this.#helloAck = helloAck;
        this.#open = true;
      },
    };
  }

  /** Resolves when `settle` is called with nothing, rejects with its error or with the link's failure. */
  #until(start: (settle: (e?: TinypipeError) => void) => () => void): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (this.#failure) return reject(this.#failure);
      let stop = () => {};
      const settle = (e?: TinypipeError) => {
        stop();
        this.#handshake = undefined;
        const i = this.#onFail.indexOf(settle);
        if (i >= 0) this.#onFail.splice(i, 1);
        if (e) {
          this.#fail(e);
          reject(e);
        } else resolve();
      };
      this.#onFail.push(settle);
      stop = start(settle);
    });
  }

  // ---- failure ----

  #fail(error: TinypipeError, reportToReader = true): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#heartbeat.stop();
    for (const f of this.#onFail) f(error);
    this.#arq.abort(error);
    try {
      if (reportToReader) this.#deliver.error(error);
      else this.#deliver.close();
    } catch {
      // the stream was already closed or errored
    }
  }
}
