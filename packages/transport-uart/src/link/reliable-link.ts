/**
 * A reliable, ordered message link over any byte `Transport` (docs/protocol.md §4): selective-repeat
 * ARQ with a window of DATA frames, cumulative + selective acknowledgements, an adaptive retransmission
 * timeout (RFC 6298 with Karn's rule), bounded retries → LINK_DOWN, duplicates re-acknowledged and never
 * delivered twice, and peer-reboot detection through the session nonce → PEER_RESET.
 * (The HELLO handshake, heartbeat and baud switch build on this next.)
 */
import { type Link, type LinkStats, TinypipeError, type Transport } from '@tinypipe/core';
import { FrameDecoder, newDecoderStats } from '../codec/streams.js';
import { encodeFrame, type Frame, FrameType, MAX_PAYLOAD } from '../frame/frame.js';

export interface ReliableLinkOptions {
  /** DATA frames in flight per direction (≤ 16, the width of the selective ack). Default 8. */
  window?: number;
  /** Retransmissions of one frame before the link is declared down. Default 12. */
  maxRetries?: number;
  /** Retransmission timeout bounds and start value, in ms. */
  minRtoMs?: number;
  maxRtoMs?: number;
  initialRtoMs?: number;
  /** This end's session nonce (default: random). */
  session?: number;
}

interface Outgoing {
  seq: number;
  payload: Uint8Array;
  sentAt: number;
  retries: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

const MOD = 0x10000;
const diff = (a: number, b: number) => (a - b + MOD) % MOD; // a − b on the u16 circle

export class ReliableLink implements Link {
  readonly specificationVersion = 1 as const;
  readonly messages: ReadableStream<Uint8Array>;
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
  readonly #queue: Omit<Outgoing, 'seq' | 'sentAt' | 'retries' | 'timer'>[] = [];
  #rto: number;
  #srtt = 0;
  #rttvar = 0;
  // receiving
  #expected = 0;
  readonly #received = new Map<number, Uint8Array>();
  // state
  #failure: TinypipeError | undefined;
  readonly #stats = { framesSent: 0, bytesSent: 0, retransmits: 0, duplicates: 0 };

  constructor(transport: Transport, options: ReliableLinkOptions = {}) {
    this.#transport = transport;
    this.#window = Math.min(16, Math.max(1, options.window ?? 8));
    this.#maxRetries = options.maxRetries ?? 12;
    this.#minRto = options.minRtoMs ?? 5;
    this.#maxRto = options.maxRtoMs ?? 2000;
    this.#rto = options.initialRtoMs ?? 50;
    this.#session = options.session ?? Math.floor(Math.random() * MOD);
    this.#writer = transport.writable.getWriter();
    this.#decoder = new FrameDecoder((f) => this.#onFrame(f), newDecoderStats());
    this.messages = new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.#deliver = controller;
      },
    });
    void this.#readLoop();
  }

  send(message: Uint8Array): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
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
    await this.#writer.close().catch(() => {});
    this.#writer.releaseLock();
    await this.#transport.close();
  }

  // ---- sending ----

  #write(frame: Frame): void {
    const bytes = encodeFrame(frame);
    this.#stats.framesSent++;
    this.#stats.bytesSent += bytes.length;
    this.#writer.write(bytes).catch((cause) => {
      this.#fail(new TinypipeError('PORT_DISCONNECTED', 'writing to the transport failed', { cause }));
    });
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
      const entry: Outgoing = { ...next, seq: this.#nextSeq, sentAt: 0, retries: 0, timer: undefined };
      this.#nextSeq = (this.#nextSeq + 1) % MOD;
      this.#inFlight.set(entry.seq, entry);
      this.#transmit(entry);
    }
  }

  #transmit(entry: Outgoing): void {
    entry.sentAt = performance.now();
    this.#write(this.#frame(FrameType.DATA, entry.seq, entry.payload));
    const rto = Math.min(this.#maxRto, this.#rto * 2 ** entry.retries);
    entry.timer = setTimeout(() => this.#timeout(entry), rto);
  }

  #timeout(entry: Outgoing): void {
    if (this.#failure || !this.#inFlight.has(entry.seq)) return;
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

  #acknowledge(ack: number, sack: number): void {
    for (const entry of [...this.#inFlight.values()]) {
      const before = diff(ack, entry.seq);
      const acked = (before >= 1 && before <= this.#window) || this.#sacked(ack, sack, entry.seq);
      if (!acked) continue;
      clearTimeout(entry.timer);
      this.#inFlight.delete(entry.seq);
      if (entry.retries === 0) this.#sampleRtt(performance.now() - entry.sentAt); // Karn: only clean samples
      entry.resolve();
    }
    this.#pump();
  }

  #sacked(ack: number, sack: number, seq: number): boolean {
    const i = diff(seq, ack) - 1;
    return i >= 0 && i < 16 && (sack & (1 << i)) !== 0;
  }

  /** RFC 6298: SRTT, RTTVAR, RTO = SRTT + 4·RTTVAR, clamped. */
  #sampleRtt(r: number): void {
    if (this.#srtt === 0) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#rto = Math.min(this.#maxRto, Math.max(this.#minRto, this.#srtt + 4 * this.#rttvar));
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
    if (this.#peerSession === undefined) this.#peerSession = f.session;
    else if (f.session !== this.#peerSession) {
      this.#fail(
        new TinypipeError('PEER_RESET', `the peer restarted (session ${this.#peerSession} → ${f.session})`),
      );
      return;
    }
    this.#acknowledge(f.ack, f.sack);
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

  // ---- failure ----

  #fail(error: TinypipeError, reportToReader = true): void {
    if (this.#failure) return;
    this.#failure = error;
    for (const e of this.#inFlight.values()) {
      clearTimeout(e.timer);
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
