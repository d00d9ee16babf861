/**
 * Selective-repeat ARQ (docs/protocol.md §4.0): a window of DATA frames in flight, each with a
 * retransmission timer on an adaptive timeout (RFC 6298 with Karn's rule), bounded retries → LINK_DOWN,
 * loss detection by later acknowledgements; and the receive window: in-order delivery, duplicates
 * re-acknowledged and never delivered twice.
 */
import { type Frame, MAX_ENCODED, TinypipeError } from '@tinypipe/protocol';
import { type Acks, ackFrame, acksOf, dataFrame, diff, MOD } from './frames.js';
import type { Line } from './line.js';

/** The wire bytes of the largest frame, its two delimiters included (C: TP_MAX_WIRE). */
const MAX_WIRE = MAX_ENCODED + 2;

export interface ArqSettings {
  /** DATA frames in flight per direction (1..16). */
  window: number;
  maxRetries: number;
  minRto: number;
  maxRto: number;
  initialRto: number;
}

/** What the ARQ needs of the link around it. */
export interface ArqHooks {
  deliver(message: Uint8Array): void;
  fail(error: TinypipeError): void;
  failed(): boolean;
}

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
  /** Its timer fired late once already and was given another RTO (this end had not been running). */
  graced: boolean;
  timer: unknown | undefined;
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class Arq {
  retransmits = 0;
  duplicates = 0;
  readonly #line: Line;
  readonly #session: number;
  readonly #settings: ArqSettings;
  readonly #hooks: ArqHooks;
  // sending
  #nextSeq = 0;
  readonly #inFlight = new Map<number, Outgoing>();
  readonly #queue: Pick<Outgoing, 'payload' | 'resolve' | 'reject'>[] = [];
  #rto: number;
  #srtt = 0;
  #rttvar = 0;
  #hasRtt = false;
  /** Transmissions so far (each DATA send and resend), to order them (`Outgoing.order`). */
  #transmissions = 0;
  // receiving
  #expected = 0;
  readonly #received = new Map<number, Uint8Array>();

  constructor(line: Line, session: number, settings: ArqSettings, hooks: ArqHooks) {
    this.#line = line;
    this.#session = session;
    this.#settings = settings;
    this.#hooks = hooks;
    this.#rto = settings.initialRto;
  }

  /** The smoothed round trip (ms; 0 before the first sample). */
  get srtt(): number {
    return this.#srtt;
  }

  /** What every frame this end sends acknowledges. */
  acks(): Acks {
    return acksOf(this.#expected, (seq) => this.#received.has(seq));
  }

  /** Queues a message (the caller checked its size); resolves when the peer acknowledged it. */
  send(payload: Uint8Array): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ payload: payload.slice(), resolve, reject });
      this.#pump();
    });
  }

  /** Rejects everything queued or in flight with `error` and stops their timers. */
  abort(error: TinypipeError): void {
    const clock = this.#line.clock;
    for (const e of this.#inFlight.values()) {
      clock.clearTimeout(e.timer);
      e.reject(error);
    }
    for (const e of this.#queue) e.reject(error);
    this.#inFlight.clear();
    this.#queue.length = 0;
  }

  // ---- sending ----

  /** The oldest unacknowledged seq (or the next one to send): the window spans [base, base + window). */
  #base(): number {
    let base = this.#nextSeq;
    for (const seq of this.#inFlight.keys())
      if (diff(this.#nextSeq, seq) > diff(this.#nextSeq, base)) base = seq;
    return base;
  }

  #pump(): void {
    while (
      !this.#hooks.failed() &&
      this.#queue.length > 0 &&
      diff(this.#nextSeq, this.#base()) < this.#settings.window
    ) {
      const next = this.#queue.shift()!;
      const entry: Outgoing = {
        ...next,
        seq: this.#nextSeq,
        writtenAt: 0,
        sentAt: 0,
        armedRto: 0,
        order: 0,
        graced: false,
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
    const clock = this.#line.clock;
    entry.order = ++this.#transmissions;
    entry.writtenAt = clock.now();
    entry.sentAt = this.#line.write(dataFrame(this.#session, entry.seq, this.acks(), entry.payload));
    entry.armedRto = this.#rto;
    entry.graced = false;
    this.#arm(entry, entry.sentAt - entry.writtenAt + this.#rto);
  }

  /**
   * The frame's timer, due in `ms`. When it fires more than half an RTO late, this end was not running
   * (a busy thread, a descheduled process — and with it, in one process, the peer and the line): the
   * answers due meanwhile have not come in yet, so it waits one more RTO from now, once per
   * transmission, before resending. Otherwise it waits one turn of the event loop, so an ACK the OS
   * already holds is read first (§4.0).
   */
  #arm(entry: Outgoing, ms: number): void {
    const clock = this.#line.clock;
    const due = clock.now() + ms;
    entry.timer = clock.setTimeout(() => {
      if (!entry.graced && clock.now() - due > this.#rto / 2) {
        entry.graced = true;
        this.#arm(entry, this.#rto);
      } else entry.timer = clock.setTimeout(() => this.#timeout(entry), 0);
    }, ms);
  }

  #timeout(entry: Outgoing): void {
    if (this.#hooks.failed() || !this.#inFlight.has(entry.seq)) return;
    // RFC 6298 §5.5: back the shared RTO off; once per RTO value, so a window of frames that all time
    // out together doubles it once. It stays backed off until a clean sample arrives (Karn).
    if (entry.armedRto >= this.#rto) this.#rto = Math.min(this.#settings.maxRto, 2 * this.#rto);
    this.#resend(entry);
  }

  #resend(entry: Outgoing): void {
    if (entry.retries >= this.#settings.maxRetries) {
      this.#hooks.fail(
        new TinypipeError(
          'LINK_DOWN',
          `no acknowledgement after ${entry.retries} retransmissions: the peer is gone or the line is too noisy`,
        ),
      );
      return;
    }
    entry.retries++;
    this.retransmits++;
    this.#transmit(entry);
  }

  /**
   * Frees what `ack`/`sack` acknowledge; then (§4.0 loss detection) resends at once every frame still
   * unacknowledged that went out before one just acknowledged: a serial line does not reorder, so the
   * peer got the later frame and not this one — it was lost (RFC 8985's rule, without its reordering
   * window). The RTO is left for the frames nothing later reveals, and is not backed off by these.
   */
  acknowledge(ack: number, sack: number): void {
    let latest = 0;
    for (const entry of [...this.#inFlight.values()]) {
      const before = diff(ack, entry.seq);
      const acked = (before >= 1 && before <= this.#settings.window) || sacked(ack, sack, entry.seq);
      if (!acked) continue;
      this.#line.clock.clearTimeout(entry.timer);
      this.#inFlight.delete(entry.seq);
      latest = Math.max(latest, entry.order);
      // Karn: only frames sent once; and not one whose timer found this end stalled (the stall is not the RTT)
      if (entry.retries === 0 && !entry.graced) this.#sampleRtt(entry);
      entry.resolve();
    }
    for (const entry of [...this.#inFlight.values()])
      if (entry.order < latest && !this.#hooks.failed()) {
        this.#line.clock.clearTimeout(entry.timer);
        this.#resend(entry);
      }
    this.#pump();
  }

  /**
   * RFC 6298 §2: SRTT, RTTVAR, RTO = SRTT + max(G, 4·RTTVAR), clamped; G is the line time of the peer's
   * largest frame, which an ACK may wait behind (0 without a line rate). The sample runs from the frame's
   * departure; an ACK that beats the estimated departure shows the transport is faster than its nominal
   * rate (a PTY, a USB bridge's buffer): the estimate is dropped and the sample runs from the write.
   */
  #sampleRtt(entry: Outgoing): void {
    const now = this.#line.clock.now();
    let r = now - entry.sentAt;
    if (r < 0) {
      r = now - entry.writtenAt;
      this.#line.leftBy(now);
    }
    if (!this.#hasRtt) {
      this.#hasRtt = true;
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    const baud = this.#line.transport.baudRate;
    const g = baud ? (MAX_WIRE * 10 * 1000) / baud : 0;
    const { minRto, maxRto } = this.#settings;
    this.#rto = Math.min(maxRto, Math.max(minRto, this.#srtt + Math.max(g, 4 * this.#rttvar)));
  }

  // ---- receiving ----

  /** A DATA frame: buffered within the window, delivered in order, and acknowledged (again) either way. */
  receive(f: Frame): void {
    const ahead = diff(f.seq, this.#expected);
    if (ahead < this.#settings.window && !this.#received.has(f.seq)) {
      this.#received.set(f.seq, f.payload);
      while (this.#received.has(this.#expected)) {
        this.#hooks.deliver(this.#received.get(this.#expected)!);
        this.#received.delete(this.#expected);
        this.#expected = (this.#expected + 1) % MOD;
      }
    } else {
      this.duplicates++; // already delivered or buffered: acknowledge again, deliver nothing
    }
    this.#line.write(ackFrame(this.#session, this.acks()));
  }
}

function sacked(ack: number, sack: number, seq: number): boolean {
  const i = diff(seq, ack) - 1;
  return i >= 0 && i < 16 && (sack & (1 << i)) !== 0;
}
