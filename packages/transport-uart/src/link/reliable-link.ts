/**
 * A reliable, ordered message link over any byte `Transport` (docs/protocol.md §4): selective-repeat
 * ARQ with a window of DATA frames, cumulative + selective acknowledgements, an adaptive retransmission
 * timeout (RFC 6298 with Karn's rule), bounded retries → LINK_DOWN, duplicates re-acknowledged and never
 * delivered twice, peer-reboot detection through the session nonce → PEER_RESET; the HELLO handshake
 * (PROTOCOL_MISMATCH / WRONG_MODEL), the host's heartbeat (TIMEOUT) and the optional baud switch.
 *
 *   host:   const link = await ReliableLink.connect(transport, { expect: { fingerprint, layers } });
 *   board:  const link = await ReliableLink.accept(transport, boardHello);   (a simulated board in TS)
 */
import {
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type HelloInfo,
  HelloStatus,
  helloStatusOf,
  type Link,
  type LinkStats,
  PROTOCOL_VERSION,
  TinypipeError,
  type Transport,
} from '@tinypipe/core';
import { FrameDecoder, newDecoderStats } from '../codec/streams.js';
import {
  type DropReason,
  encodeFrame,
  type Frame,
  FrameType,
  MAX_ENCODED,
  MAX_PAYLOAD,
} from '../frame/frame.js';

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

/** The time source and timers a link uses. */
export interface LinkClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

/** The platform's clock. */
export const systemClock: LinkClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as ReturnType<typeof setInterval>),
};

export interface ConnectOptions extends ReliableLinkOptions {
  /** What the host expects of the board; anything left out is accepted as it is. */
  expect?: Partial<Pick<HelloInfo, 'board' | 'fingerprint' | 'layers' | 'vocab' | 'build'>>;
  /** Line rate to switch to after the handshake, if the transport and the board can (§4.3). */
  baud?: number;
  /** HELLO is resent this often until answered (ms). Default 100. */
  helloIntervalMs?: number;
  /** No HELLO_ACK within this long (ms) → TIMEOUT. Default 2000. */
  handshakeTimeoutMs?: number;
  /** After a baud switch, a PONG must arrive within this long (ms) or both fall back. Default 200. */
  baudProbeMs?: number;
}

export interface AcceptOptions extends ReliableLinkOptions {
  /** Called for every HELLO the board refuses (it keeps waiting for an acceptable one). */
  onRefused?: (error: TinypipeError) => void;
  /** The rate to accept when the host proposes one (return 0 to keep the current rate). Default: keep. */
  acceptBaud?: (proposed: number) => number;
}

type Role = 'raw' | 'host' | 'board';

interface Outgoing {
  seq: number;
  payload: Uint8Array;
  /** When it was handed to the transport, and when its last byte leaves the line (§4.0). */
  writtenAt: number;
  sentAt: number;
  /** The RTO its timer was armed with: a timeout backs the shared RTO off only once per value. */
  armedRto: number;
  /** Its place in the order of transmissions (every send and resend takes the next): §4.0 loss detection. */
  order: number;
  retries: number;
  timer: unknown | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MOD = 0x10000;
/** The wire bytes of the largest frame, its two delimiters included (C: TP_MAX_WIRE). */
const MAX_WIRE = MAX_ENCODED + 2;
const diff = (a: number, b: number) => (a - b + MOD) % MOD; // a − b on the u16 circle

const malformedAck = (what: string) =>
  new TinypipeError('PROTOCOL_MISMATCH', `${what} from the board: it speaks another protocol`);

export class ReliableLink implements Link {
  readonly specificationVersion = 1 as const;
  readonly messages: ReadableStream<Uint8Array>;
  /** The other end's HELLO (after `connect` / `accept`). */
  peer: HelloInfo | undefined;
  readonly #transport: Transport;
  readonly #writer: WritableStreamDefaultWriter<Uint8Array>;
  readonly #decoder: FrameDecoder;
  readonly #window: number;
  readonly #maxRetries: number;
  readonly #minRto: number;
  readonly #maxRto: number;
  readonly #session: number;
  #peerSession: number | undefined;
  #deliver!: ReadableStreamDefaultController<Uint8Array>;
  // sending
  #nextSeq = 0;
  readonly #inFlight = new Map<number, Outgoing>();
  readonly #queue: Pick<Outgoing, 'payload' | 'resolve' | 'reject'>[] = [];
  #rto: number;
  #srtt = 0;
  #rttvar = 0;
  #hasRtt = false;
  // receiving
  #expected = 0;
  readonly #received = new Map<number, Uint8Array>();
  // state
  readonly #role: Role;
  #open: boolean;
  #failure: TinypipeError | undefined;
  readonly #stats = { framesSent: 0, bytesSent: 0, retransmits: 0, duplicates: 0 };
  /** Transmissions so far (each DATA send and resend), to order them (`Outgoing.order`). */
  #transmissions = 0;
  // handshake and heartbeat
  #handshake: { onFrame: (f: Frame) => void; onDrop: (reason: DropReason) => void } | undefined;
  #heartbeat: unknown | undefined;
  #lastSent = 0;
  /** Board: the HELLO_ACK that accepted the host, answered again to a resent HELLO. */
  #helloAck: Frame | undefined;
  /** When the bytes queued so far will have left (transports with a line rate; see #write). */
  #lineFreeAt = 0;
  #lastReceived = 0;
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
    this.#window = Math.min(16, Math.max(1, options.window ?? 8));
    this.#maxRetries = options.maxRetries ?? 12;
    this.#minRto = options.minRtoMs ?? 20;
    this.#maxRto = options.maxRtoMs ?? 2000;
    this.#rto = options.initialRtoMs ?? 50;
    this.#session = options.session ?? Math.floor(Math.random() * MOD);
    this.#writer = transport.writable.getWriter();
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
      await link.#connect(options);
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
    await link.#accept(board, options);
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
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ payload: message.slice(), resolve, reject });
      this.#pump();
    });
  }

  stats(): LinkStats {
    const d = this.#decoder.stats;
    return {
      framesSent: this.#stats.framesSent,
      framesReceived: d.framesIn,
      bytesSent: this.#stats.bytesSent,
      bytesReceived: d.bytesIn,
      retransmits: this.#stats.retransmits,
      crcFailures: d.dropped.crc,
      resyncs: Object.values(d.dropped).reduce((a, b) => a + b, 0),
      duplicates: this.#stats.duplicates,
      rttMs: this.#srtt,
    };
  }

  async close(): Promise<void> {
    this.#fail(new TinypipeError('LINK_DOWN', 'the link was closed'), false);
    this.#handshake = undefined;
    // flush what was queued, but a transport whose far end vanished may never finish: give it a second
    const flushed = await Promise.race([
      this.#writer.close().then(
        () => true,
        () => true,
      ),
      new Promise<false>((r) => setTimeout(() => r(false), 1000)),
    ]);
    if (flushed) this.#writer.releaseLock();
    await this.#transport.close();
  }

  // ---- sending ----

  /**
   * Queues a frame for the transport; returns when its last byte will have left (§4.0): on a
   * transport with a line rate frames queue behind each other at 10 bits per byte, as a UART sends them.
   */
  #write(frame: Frame): number {
    const bytes = encodeFrame(frame);
    const now = this.#clock.now();
    this.#lastSent = now;
    this.#stats.framesSent++;
    this.#stats.bytesSent += bytes.length;
    const baud = this.#transport.baudRate;
    this.#lineFreeAt = baud ? Math.max(now, this.#lineFreeAt) + (bytes.length * 10 * 1000) / baud : now;
    this.#writer.write(bytes).catch((cause) => {
      this.#fail(new TinypipeError('PORT_DISCONNECTED', 'writing to the transport failed', { cause }));
    });
    return this.#lineFreeAt;
  }

  #frame(type: FrameType, seq: number, payload: Uint8Array): Frame {
    let sack = 0;
    for (let i = 0; i < 16; i++) if (this.#received.has((this.#expected + 1 + i) % MOD)) sack |= 1 << i;
    return { type, session: this.#session, seq, ack: this.#expected, sack, payload };
  }

  /** The oldest unacknowledged seq (or the next one to send): the window spans [base, base + window). */
  #base(): number {
    let base = this.#nextSeq;
    for (const seq of this.#inFlight.keys())
      if (diff(this.#nextSeq, seq) > diff(this.#nextSeq, base)) base = seq;
    return base;
  }

  #pump(): void {
    while (!this.#failure && this.#queue.length > 0 && diff(this.#nextSeq, this.#base()) < this.#window) {
      const next = this.#queue.shift()!;
      const entry: Outgoing = {
        ...next,
        seq: this.#nextSeq,
        writtenAt: 0,
        sentAt: 0,
        armedRto: 0,
        order: 0,
        retries: 0,
        timer: undefined,
      };
      this.#nextSeq = (this.#nextSeq + 1) % MOD;
      this.#inFlight.set(entry.seq, entry);
      this.#transmit(entry);
    }
  }

  /** The timer runs from the frame's departure, with the shared RTO (§4.0). */
  #transmit(entry: Outgoing): void {
    entry.order = ++this.#transmissions;
    entry.writtenAt = this.#clock.now();
    entry.sentAt = this.#write(this.#frame(FrameType.DATA, entry.seq, entry.payload));
    entry.armedRto = this.#rto;
    entry.timer = this.#clock.setTimeout(
      // one more turn of the event loop before deciding: an ACK the OS already holds is read first
      () => (entry.timer = this.#clock.setTimeout(() => this.#timeout(entry), 0)),
      entry.sentAt - entry.writtenAt + this.#rto,
    );
  }

  #timeout(entry: Outgoing): void {
    if (this.#failure || !this.#inFlight.has(entry.seq)) return;
    // RFC 6298 §5.5: back the shared RTO off; once per RTO value, so a window of frames that all time
    // out together doubles it once. It stays backed off until a clean sample arrives (Karn).
    if (entry.armedRto >= this.#rto) this.#rto = Math.min(this.#maxRto, 2 * this.#rto);
    this.#resend(entry);
  }

  #resend(entry: Outgoing): void {
    if (entry.retries >= this.#maxRetries) {
      this.#fail(
        new TinypipeError(
          'LINK_DOWN',
          `no acknowledgement after ${entry.retries} retransmissions: the peer is gone or the line is too noisy`,
        ),
      );
      return;
    }
    entry.retries++;
    this.#stats.retransmits++;
    this.#transmit(entry);
  }

  /**
   * Frees what `ack`/`sack` acknowledge; then (§4.0 loss detection) resends at once every frame still
   * unacknowledged that went out before one just acknowledged: a serial line does not reorder, so the
   * peer got the later frame and not this one — it was lost (RFC 8985's rule, without its reordering
   * window). The RTO is left for the frames nothing later reveals, and is not backed off by these.
   */
  #acknowledge(ack: number, sack: number): void {
    let latest = 0;
    for (const entry of [...this.#inFlight.values()]) {
      const before = diff(ack, entry.seq);
      const acked = (before >= 1 && before <= this.#window) || this.#sacked(ack, sack, entry.seq);
      if (!acked) continue;
      this.#clock.clearTimeout(entry.timer);
      this.#inFlight.delete(entry.seq);
      latest = Math.max(latest, entry.order);
      if (entry.retries === 0) this.#sampleRtt(entry); // Karn: only frames sent once
      entry.resolve();
    }
    for (const entry of [...this.#inFlight.values()])
      if (entry.order < latest && !this.#failure) {
        this.#clock.clearTimeout(entry.timer);
        this.#resend(entry);
      }
    this.#pump();
  }

  #sacked(ack: number, sack: number, seq: number): boolean {
    const i = diff(seq, ack) - 1;
    return i >= 0 && i < 16 && (sack & (1 << i)) !== 0;
  }

  /**
   * RFC 6298 §2: SRTT, RTTVAR, RTO = SRTT + max(G, 4·RTTVAR), clamped; G is the line time of the peer's
   * largest frame, which an ACK may wait behind (0 without a line rate). The sample runs from the frame's
   * departure; an ACK that beats the estimated departure shows the transport is faster than its nominal
   * rate (a PTY, a USB bridge's buffer): the estimate is dropped and the sample runs from the write.
   */
  #sampleRtt(entry: Outgoing): void {
    const now = this.#clock.now();
    let r = now - entry.sentAt;
    if (r < 0) {
      r = now - entry.writtenAt;
      this.#lineFreeAt = Math.min(this.#lineFreeAt, now);
    }
    if (!this.#hasRtt) {
      this.#hasRtt = true;
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    const baud = this.#transport.baudRate;
    const g = baud ? (MAX_WIRE * 10 * 1000) / baud : 0;
    this.#rto = Math.min(this.#maxRto, Math.max(this.#minRto, this.#srtt + Math.max(g, 4 * this.#rttvar)));
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
    this.#lastReceived = this.#clock.now();
    if (this.#handshake) {
      this.#handshake.onFrame(f);
      return;
    }
    if (!this.#open) return;
    if (f.type === FrameType.HELLO && this.#helloAck && f.session === this.#peerSession) {
      this.#write(this.#helloAck); // the host resent HELLO: our HELLO_ACK was lost, answer again
      return;
    }
    if (this.#peerSession === undefined) this.#peerSession = f.session;
    else if (f.session !== this.#peerSession) {
      this.#fail(
        new TinypipeError('PEER_RESET', `the peer restarted (session ${this.#peerSession} → ${f.session})`),
      );
      return;
    }
    this.#acknowledge(f.ack, f.sack);
    if (f.type === FrameType.PING) this.#write(this.#frame(FrameType.PONG, 0, new Uint8Array(0)));
    if (f.type !== FrameType.DATA) return;
    const ahead = diff(f.seq, this.#expected);
    if (ahead < this.#window && !this.#received.has(f.seq)) {
      this.#received.set(f.seq, f.payload);
      while (this.#received.has(this.#expected)) {
        this.#deliver.enqueue(this.#received.get(this.#expected)!);
        this.#received.delete(this.#expected);
        this.#expected = (this.#expected + 1) % MOD;
      }
    } else {
      this.#stats.duplicates++; // already delivered or buffered: acknowledge again, deliver nothing
    }
    this.#write(this.#frame(FrameType.ACK, 0, new Uint8Array(0)));
  }

  // ---- handshake (§4.1), heartbeat (§4.2), baud switch (§4.3) ----

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

  async #connect(options: ConnectOptions): Promise<void> {
    const expect = options.expect ?? {};
    const canSwitch =
      options.baud !== undefined && options.baud > 0 && this.#transport.setBaudRate !== undefined;
    const mine: HelloInfo = {
      protocol: HELLO_PROTOCOL,
      role: 'host',
      board: expect.board,
      fingerprint: expect.fingerprint,
      layers: expect.layers,
      vocab: expect.vocab,
      build: expect.build,
      maxPayload: MAX_PAYLOAD,
      streams: 0,
      caps: { embedding: false, classifier: false, sampler: false },
      baud: canSwitch ? options.baud! : 0,
    };
    const hello = encodeHello(mine);
    const interval = options.helloIntervalMs ?? 100;
    const limit = options.handshakeTimeoutMs ?? 2000;
    await this.#until((settle) => {
      const send = () =>
        this.#write({
          type: FrameType.HELLO,
          session: this.#session,
          seq: 0,
          ack: 0,
          sack: 0,
          payload: hello,
        });
      const resend = this.#clock.setInterval(send, interval);
      const give = this.#clock.setTimeout(
        () =>
          settle(
            new TinypipeError(
              'TIMEOUT',
              `no answer to HELLO within ${limit} ms: is the board powered, flashed with the tinypipe firmware, and on this port at this baud rate?`,
            ),
          ),
        limit,
      );
      this.#handshake = {
        onDrop: (reason) => {
          if (reason === 'version')
            settle(
              new TinypipeError(
                'PROTOCOL_MISMATCH',
                `the board answered in another frame version (this host speaks ${PROTOCOL_VERSION}): update the firmware or the host`,
              ),
            );
        },
        onFrame: (f) => {
          if (f.type !== FrameType.HELLO_ACK) return;
          if (f.payload.length < 1) return settle(malformedAck('an empty HELLO_ACK'));
          let board: HelloInfo;
          try {
            board = decodeHello(f.payload.subarray(1));
          } catch (cause) {
            return settle(
              new TinypipeError(
                'PROTOCOL_MISMATCH',
                `the board's HELLO_ACK does not parse: ${String((cause as Error).message)}`,
                {
                  cause,
                },
              ),
            );
          }
          // the host decides for itself, whatever the board's status says; the status explains a refusal
          const refused =
            checkHello(mine, board) ??
            (f.payload[0] === HelloStatus.OK
              ? undefined
              : new TinypipeError(
                  f.payload[0] === HelloStatus.PROTOCOL_MISMATCH
                    ? 'PROTOCOL_MISMATCH'
                    : f.payload[0] === HelloStatus.WRONG_BUILD
                      ? 'MIXED_BUILD'
                      : 'WRONG_MODEL',
                  `the board refused the handshake (status ${f.payload[0]})`,
                ));
          if (refused) return settle(refused);
          this.peer = board;
          this.#peerSession = f.session;
          this.#open = true;
          settle();
        },
      };
      send();
      return () => {
        this.#clock.clearInterval(resend);
        this.#clock.clearTimeout(give);
      };
    });
    if (canSwitch && this.peer!.baud === options.baud)
      await this.#switchBaud(options.baud!, options.baudProbeMs ?? 200);
    this.#startHeartbeat();
  }

  /** Both ends switch right after HELLO_ACK; a PING must be answered at the new rate, else fall back. */
  async #switchBaud(baud: number, probeMs: number): Promise<void> {
    const transport = this.#transport;
    const old = transport.baudRate;
    await transport.setBaudRate!(baud);
    const answered = await new Promise<boolean>((resolve) => {
      const since = this.#clock.now();
      const ping = this.#clock.setInterval(
        () => this.#write(this.#frame(FrameType.PING, 0, new Uint8Array(0))),
        20,
      );
      const check = this.#clock.setInterval(() => {
        if (this.#lastReceived > since) done(true);
      }, 1);
      const give = this.#clock.setTimeout(() => done(false), probeMs);
      const done = (ok: boolean) => {
        this.#clock.clearInterval(ping);
        this.#clock.clearInterval(check);
        this.#clock.clearTimeout(give);
        resolve(ok);
      };
      this.#write(this.#frame(FrameType.PING, 0, new Uint8Array(0)));
    });
    if (!answered && old !== undefined) await transport.setBaudRate!(old);
  }

  #startHeartbeat(): void {
    if (this.#heartbeatMs <= 0 || this.#failure) return;
    this.#lastReceived = this.#clock.now();
    const every = Math.max(1, Math.floor(this.#heartbeatMs / 2));
    let lastTick = this.#lastReceived;
    this.#heartbeat = this.#clock.setInterval(() => {
      const now = this.#clock.now();
      const gap = now - lastTick;
      lastTick = now;
      // A tick this late means this thread was busy (a long synchronous task in the app): it sent no
      // PING meanwhile, and what the board sent is still unread behind the timers. That time is not the
      // board's silence; only the time this end was listening counts.
      if (gap > 2 * every + 50) this.#lastReceived = Math.min(now - every, this.#lastReceived + gap - every);
      if (now - this.#lastReceived > this.#timeoutMs) {
        this.#fail(
          new TinypipeError(
            'TIMEOUT',
            `nothing from the board for ${Math.round(now - this.#lastReceived)} ms (limit ${this.#timeoutMs} ms): it hangs, or its compute blocks its link longer than timeoutMs`,
          ),
        );
      } else if (now - this.#lastSent >= this.#heartbeatMs) {
        this.#write(this.#frame(FrameType.PING, 0, new Uint8Array(0)));
      }
    }, every);
  }

  async #accept(board: HelloInfo, options: AcceptOptions): Promise<void> {
    const mine: HelloInfo = { ...board, protocol: HELLO_PROTOCOL, role: 'board' };
    // a protocol-1 host (60-byte HELLO) is refused in the layout it decodes (docs/protocol.md §4.1)
    const ack = (status: number, baud: number, helloBytes: number = HELLO_BYTES) => {
      const payload = new Uint8Array(1 + helloBytes);
      payload[0] = status;
      payload.set(encodeHello({ ...mine, baud }).subarray(0, helloBytes), 1);
      return payload;
    };
    let switchTo = 0;
    await this.#until((settle) => {
      this.#handshake = {
        onDrop: (reason) => {
          if (reason !== 'version') return;
          const e = new TinypipeError('PROTOCOL_MISMATCH', 'a host spoke another frame version');
          options.onRefused?.(e);
          this.#write({
            type: FrameType.HELLO_ACK,
            session: this.#session,
            seq: 0,
            ack: 0,
            sack: 0,
            payload: ack(HelloStatus.PROTOCOL_MISMATCH, 0),
          });
        },
        onFrame: (f) => {
          if (f.type !== FrameType.HELLO) return;
          let refused: TinypipeError | undefined;
          let host: HelloInfo | undefined;
          try {
            host = decodeHello(f.payload);
            refused = checkHello(host, mine);
          } catch (cause) {
            refused = new TinypipeError('PROTOCOL_MISMATCH', 'a host sent a HELLO this board cannot parse', {
              cause,
            });
          }
          const status = helloStatusOf(refused);
          switchTo =
            !refused && host!.baud > 0 && this.#transport.setBaudRate
              ? (options.acceptBaud?.(host!.baud) ?? 0)
              : 0;
          const answer: Frame = {
            type: FrameType.HELLO_ACK,
            session: this.#session,
            seq: 0,
            ack: 0,
            sack: 0,
            payload: ack(
              status,
              switchTo,
              f.payload.length === HELLO_V1_BYTES ? HELLO_V1_BYTES : HELLO_BYTES,
            ),
          };
          this.#write(answer);
          if (refused) {
            options.onRefused?.(refused);
            return;
          }
          this.peer = host;
          this.#peerSession = f.session;
          this.#helloAck = answer;
          this.#open = true;
          settle();
        },
      };
      return () => {};
    });
    if (switchTo > 0) {
      // switch once the HELLO_ACK has left; fall back when nothing valid arrives at the new rate
      const old = this.#transport.baudRate;
      await this.#writer.ready;
      await this.#transport.setBaudRate!(switchTo);
      const since = this.#clock.now();
      this.#clock.setTimeout(() => {
        if (this.#lastReceived <= since && old !== undefined && !this.#failure)
          void this.#transport.setBaudRate!(old);
      }, 500);
    }
  }

  // ---- failure ----

  #fail(error: TinypipeError, reportToReader = true): void {
    if (this.#failure) return;
    this.#failure = error;
    this.#clock.clearInterval(this.#heartbeat);
    for (const f of this.#onFail) f(error);
    for (const e of this.#inFlight.values()) {
      this.#clock.clearTimeout(e.timer);
      e.reject(error);
    }
    for (const e of this.#queue) e.reject(error);
    this.#inFlight.clear();
    this.#queue.length = 0;
    try {
      if (reportToReader) this.#deliver.error(error);
      else this.#deliver.close();
    } catch {
      // the stream was already closed or errored
    }
  }
}
