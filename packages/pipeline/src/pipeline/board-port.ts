/**
 * `BoardPort`: one board's end of a link the host holds, with a reader routing answers to whoever waits
 * for that stream and position (docs/protocol.md §5.2): its waiters, late answers, malformed messages.
 */

import type { Link } from '@tinypipe/protocol';
import {
  type BoardCounters,
  decodeMessage,
  encodeMessage,
  firmwareErrorCode,
  type Message,
  TinypipeError,
} from '@tinypipe/protocol';
import type { PipelineRequestEvent } from './plan.js';
import { badReply, checkFinite, LogitsAssembly } from './replies.js';

type Waiter = {
  pos: number;
  resolve: (m: Answer) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The LOGITS slices so far, once the first arrived. */
  logits?: LogitsAssembly;
};
/** What a request waits for: an ACTIVATION, LOGITS (joined) or a TOKEN — or HASHES / ERROR routed aside. */
export type Answer = Exclude<
  Message,
  { kind: 'start' | 'end' | 'stats' | 'stats-request' | 'calibrate-request' | 'calibration' }
>;

/** How many abandoned positions per stream the host still recognises late answers for. */
const LATE_KEPT = 4;

/**
 * One link the host holds, with a reader routing answers to whoever waits for that stream and position
 * (docs/protocol.md §5.2). Nothing is kept for later: an answer nobody waits for is counted and dropped —
 * late answers of a request abandoned by a fault too — so a flooding board costs no memory.
 */
export class BoardPort {
  readonly #waiting = new Map<number, Waiter>();
  /** Per stream, the last positions whose requests were abandoned (timed out, failed): their answers are late. */
  readonly #late = new Map<number, number[]>();
  failure: TinypipeError | undefined;
  messages = 0;
  busyMs = 0;
  unsolicited = 0;
  malformed = 0;
  /** The model's vocab and dim (answers are checked against them) and the request timeout (ms). */
  vocab = 0;
  dim = 0;
  timeoutMs = 10_000;
  /** Where ERRORs for a stream go when nobody waits here (chain: the first port's go to the last's). */
  onError: ((stream: number, e: TinypipeError) => void) | undefined;
  onFailure: ((e: TinypipeError) => void) | undefined;
  onRequest: ((event: PipelineRequestEvent) => void) | undefined;
  /** Where HASHES go (`PipelineOptions.onHashes`); dropped otherwise. */
  onHashes: ((event: Omit<Extract<Message, { kind: 'hashes' }>, 'kind'>) => void) | undefined;
  /** Where STATS answers go while `Pipeline.boardStats` asks; dropped otherwise. */
  onStats: ((port: BoardPort, counters: BoardCounters) => void) | undefined;

  constructor(
    readonly board: number,
    public link: Link,
    readonly chain: boolean,
  ) {
    void this.#read(link);
  }

  /** A new link to the same board (after `reconnect`): the old one's state is gone with it. */
  replace(link: Link): void {
    this.link = link;
    this.failure = undefined;
    this.#late.clear();
    void this.#read(link);
  }

  async #read(link: Link): Promise<void> {
    const reader = link.messages.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (this.link !== link) return; // replaced
        if (done) throw new TinypipeError('LINK_DOWN', `board ${this.board}: its link closed`);
        const m = this.#decode(value);
        if (!m) continue;
        if (m.kind === 'stats') {
          const { kind: _, ...counters } = m;
          this.onStats?.(this, counters);
          continue;
        }
        if (m.kind === 'hashes') {
          const { kind: _, ...event } = m;
          this.onHashes?.(event);
          continue;
        }
        if (
          m.kind === 'start' ||
          m.kind === 'end' ||
          m.kind === 'stats-request' ||
          m.kind === 'calibrate-request' ||
          m.kind === 'calibration'
        )
          continue;
        if (m.kind === 'error') {
          const e = this.#remote(m);
          const stream = m.stream ?? -1;
          if (this.onError) this.onError(stream, e); // chain: the answers were awaited on the last link
          if (stream === -1) this.rejectAll(e);
          else this.reject(stream, e);
          continue;
        }
        const w = this.#waiting.get(m.stream);
        if (!w || (m.pos !== w.pos && this.#late.get(m.stream)?.includes(m.pos))) {
          this.unsolicited++;
          continue;
        }
        try {
          this.#take(m.stream, w, m);
        } catch (e) {
          this.reject(m.stream, e as TinypipeError);
        }
      }
    } catch (e) {
      if (this.link !== link) return;
      this.fail(
        TinypipeError.isInstance(e)
          ? e
          : new TinypipeError('LINK_DOWN', `board ${this.board}: ${String(e)}`, { cause: e }),
      );
    } finally {
      reader.releaseLock();
    }
  }

  /**
   * `bytes` decoded, or undefined when they are not a message (the frame's CRC held, so the board sent
   * them): the stream they name — its first three bytes, when there are three — fails with `BAD_REPLY`,
   * the link and every other stream on it go on; bytes too short to name a stream are counted and dropped.
   */
  #decode(bytes: Uint8Array): Message | undefined {
    try {
      return decodeMessage(bytes);
    } catch (e) {
      if (!TinypipeError.isInstance(e) || e.code !== 'MESSAGE_MALFORMED') throw e;
      this.malformed++;
      if (bytes.length < 3) return undefined;
      const stream = bytes[1]! | (bytes[2]! << 8);
      const w = this.#waiting.get(stream);
      if (w)
        this.reject(
          stream,
          badReply(
            { board: this.board, stream, pos: w.pos },
            `sent a message that does not decode (${e.message})`,
            {
              kind: bytes[0],
              bytes: bytes.length,
            },
          ),
        );
      return undefined;
    }
  }

  #remote(m: Extract<Message, { kind: 'error' }>): TinypipeError {
    // in a chain the board names itself in the text ("board 2: …")
    const text = this.chain ? m.text : `board ${this.board}: ${m.text}`;
    // the statuses added with their own codes keep them on the host; the older ones stay REMOTE_ERROR
    const own = firmwareErrorCode(m.code);
    const code =
      own === 'IMAGE_EXCEEDS_BOARD' || own === 'NONFINITE' || own === 'MIXED_BUILD' ? own : 'REMOTE_ERROR';
    return new TinypipeError(code, `${text} (firmware status ${m.code}, ${own})`, {
      details: { board: this.board, code: m.code, firmwareCode: own },
    });
  }

  /** `m` for the request `w` waits on: checked, then it answers (LOGITS: once every row arrived). */
  #take(stream: number, w: Waiter, m: Extract<Answer, { pos: number }>): void {
    const at = { board: this.board, stream, pos: w.pos };
    if (m.pos !== w.pos)
      throw badReply(at, `answered position ${m.pos}`, { answeredPos: m.pos, kind: m.kind });
    if (w.logits && m.kind !== 'logits') throw badReply(at, `sent ${m.kind} between its LOGITS slices`);
    if (m.kind === 'logits') {
      w.logits ??= new LogitsAssembly(at, this.vocab);
      w.logits.add(m);
      if (!w.logits.complete) return;
      this.#settle(stream);
      w.resolve({ ...m, vocabFrom: 0, logits: w.logits.logits });
      return;
    }
    if (m.kind === 'activation') {
      if (m.x.length !== this.dim)
        throw badReply(at, `sent an ACTIVATION of ${m.x.length} values, the model's dim is ${this.dim}`);
      checkFinite(at, m.x, 'activation');
    }
    if (m.kind === 'token' && m.token !== 0xffffffff && m.token >= this.vocab)
      throw badReply(at, `sent token ${m.token}, past the vocab (${this.vocab})`, { token: m.token });
    this.#settle(stream);
    w.resolve(m);
  }

  /** The request waiting on `stream`, no longer waiting (its timer stopped). */
  #settle(stream: number): Waiter | undefined {
    const w = this.#waiting.get(stream);
    this.#waiting.delete(stream);
    clearTimeout(w?.timer);
    return w;
  }

  /** The request on `stream` fails with `e`; answers to it that still come are late and dropped. */
  reject(stream: number, e: TinypipeError): void {
    const w = this.#settle(stream);
    if (!w) return;
    const late = this.#late.get(stream) ?? [];
    late.push(w.pos);
    if (late.length > LATE_KEPT) late.shift();
    this.#late.set(stream, late);
    w.reject(e);
  }

  /** Every request waiting here fails with `e` (the link itself may be fine). */
  rejectAll(e: TinypipeError): void {
    for (const s of [...this.#waiting.keys()]) this.reject(s, e);
  }

  fail(e: TinypipeError): void {
    this.failure = e;
    this.rejectAll(e);
    this.onFailure?.(e);
  }

  /**
   * This link's answer for `stream` at `pos` (LOGITS: all the slices, joined), or TIMEOUT naming the board,
   * stream and position when it is not all here within `timeoutMs`.
   */
  next(stream: number, pos: number): Promise<Answer> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<Answer>((resolve, reject) => {
      this.reject(stream, new TinypipeError('INVALID_ARGUMENT', 'superseded'));
      const w: Waiter = { pos, resolve, reject, timer: undefined };
      w.timer = setTimeout(() => {
        if (this.#waiting.get(stream) !== w) return;
        this.reject(
          stream,
          new TinypipeError(
            'TIMEOUT',
            `board ${this.board} did not answer stream ${stream} at position ${pos} within ${this.timeoutMs} ms: check that it runs and its link is up (a slower board: raise requestTimeoutMs)`,
            { details: { board: this.board, stream, pos, timeoutMs: this.timeoutMs } },
          ),
        );
      }, this.timeoutMs);
      this.#waiting.set(stream, w);
    });
  }

  async send(m: Message): Promise<void> {
    if (this.failure) throw this.failure;
    await this.link.send(encodeMessage(m));
  }

  /** Sends `m` here and resolves with `from`'s next answer for the same stream and position. */
  async request(m: Message & { stream: number; pos: number }, from: BoardPort = this): Promise<Answer> {
    if (this.failure) throw this.failure;
    const started = performance.now();
    const answer = from.next(m.stream, m.pos);
    answer.catch(() => {}); // awaited below; a failed send must not leave its rejection unhandled
    const sent = this.send(m).catch((e) => {
      if (TinypipeError.isInstance(e)) from.reject(m.stream, e); // stops its timer
      throw e;
    });
    // a send may wait for the board's ACK: a board that stops answering must not outlast the request's timer
    await Promise.race([sent, answer]);
    const r = await answer;
    const answeredAt = performance.now();
    from.messages++;
    from.busyMs += answeredAt - started;
    if (m.kind !== 'token' && m.kind !== 'activation') return r; // a split classifier's rounds
    this.onRequest?.({
      stream: m.stream,
      pos: m.pos,
      kind: m.kind === 'token' ? 'token' : 'activation',
      sentTo: this.board,
      answeredBy: from.board,
      sentAt: started,
      answeredAt,
    });
    return r;
  }
}
