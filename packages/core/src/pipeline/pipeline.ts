/**
 * The host side of a pipeline of boards — the same numbers as `QuantEngine` on the host, bit for bit
 * (docs/numerics.md), so sampling with the llama2.c sampler (on the host, or in C on the last board) gives
 * the tokens `tinypipe generate --quant` gives. Two topologies (docs/protocol.md §4.4):
 * - `star`: every board on its own link; the host sends a TOKEN to the first board, relays each board's
 *   ACTIVATION to the next and gets the last board's LOGITS or sampled TOKEN back.
 * - `chain`: boards wired board to board; the host holds two links, to the first board (START, TOKEN,
 *   END go in) and to the last board's second port (TOKEN / LOGITS come out). It relays nothing.
 *
 * Several sequences in flight: each board keeps a KV cache per stream and works on whichever stream's
 * message arrives, so while board 1 runs stream 0, board 0 runs stream 1 — N boards add throughput.
 * `generate()` calls share the boards; each takes a free stream (waiting for one if all are busy).
 *
 * A board that resets or drops off mid-generation fails its link (PORT_DISCONNECTED, TIMEOUT, PEER_RESET,
 * LINK_DOWN). Given `reconnect`, the pipeline gets a new link to it, checks its HELLO again and the streams
 * in flight re-prefill (their positions so far, replayed) and go on — the tokens are the ones an
 * undisturbed run gives. Without it, the generation fails with the link's error.
 */
import type { ModelConfig } from '../checkpoint/types.js';
import { TinypipeError } from '../errors/tinypipe-error.js';
import {
  type AsyncLogitsEngine,
  type GeneratedToken,
  type GenerateOptions,
  preparePrompt,
} from '../generate/generate.js';
import type { Link } from '../link/types.js';
import { type BoardCounters, decodeMessage, encodeMessage, type Message } from '../protocol/messages.js';
import { firmwareErrorCode } from '../protocol/status.js';
import type { QuantizedModel } from '../quant/types.js';
import { validateSamplerOptions } from '../sampler/sampler.js';
import { BOS, PieceDecoder } from '../tokenizer/tokenizer.js';
import { badReply, checkFinite, LogitsAssembly } from './replies.js';

export interface PipelineStage {
  layers: readonly [number, number];
  embedding: boolean;
  /** Classifier rows held (the last stage holds all of them); null/undefined: none. */
  vocab?: readonly [number, number] | null | undefined;
}

export interface PipelinePlan {
  config: ModelConfig;
  fingerprint: Uint8Array;
  stages: readonly PipelineStage[];
  /**
   * The build id every board must report (8 bytes: a build manifest's `build`), when the caller knows
   * it; without it the boards that report a build must still all report the same one.
   */
  build?: Uint8Array | undefined;
}

/** The plan of a split made with `splitSelections` (the images `buildImage` makes from the same selections). */
export function pipelinePlan(
  qm: Pick<QuantizedModel, 'config' | 'fingerprint'>,
  selections: readonly {
    layers: readonly [number, number];
    embedding: boolean;
    classifier: false | readonly [number, number];
  }[],
): PipelinePlan {
  return {
    config: qm.config,
    fingerprint: qm.fingerprint,
    stages: selections.map((s) => ({
      layers: s.layers,
      embedding: s.embedding,
      vocab: s.classifier || null,
    })),
  };
}

export interface StageStats {
  /** The board at this end of the host's link (star: every board; chain: the first and the last). */
  board: number;
  messages: number;
  /** Time from sending a request on this link to its answer, summed (ms): compute plus the hops. */
  busyMs: number;
  retransmits: number;
  bytesSent: number;
  bytesReceived: number;
  /** Answers nobody waited for (an unknown stream, one that ended, a request that timed out): dropped. */
  unsolicited: number;
  /** Messages that did not decode (the stream they name failed with `BAD_REPLY`; the link went on). */
  malformed: number;
}

/** One board's own account (its STATS answer, `Pipeline.boardStats()`), with its place in the plan. */
export interface BoardStats extends BoardCounters {
  /** The layers `[from, to)` it runs. */
  layers: readonly [number, number];
  /** Compute of all the positions it ran, ms (measured on the board; 0 if its port has no µs clock). */
  computeMs: number;
  /** Compute per position it ran, ms. */
  msPerForward: number;
}

export type Topology = 'star' | 'chain';

export interface PipelineOptions {
  /**
   * `star` (default): `links[i]` reaches board i. `chain`: `links` is `[first, last]` — the first board's
   * port and the last board's second port (for one board, its two ports).
   */
  topology?: Topology;
  /**
   * A new link to the board behind `links[index]` once its link failed (e.g. reopen the port and
   * `ReliableLink.connect` after the board rebooted). The streams in flight then re-prefill and resume.
   */
  reconnect?: (index: number) => Promise<Link>;
  /** How long a stream keeps trying to resume (ms; default 15,000) before it fails with the last error. */
  resumeWithinMs?: number;
  /**
   * How long one request waits for its whole answer (ms; default 10,000 — over ten times a position of
   * stories110M on one ESP32-S3, with a few streams queued) before its stream fails with TIMEOUT.
   */
  requestTimeoutMs?: number;
  /** Told when a stream re-prefills after a fault (for logs and progress). */
  onResume?: (event: { stream: number; pos: number; error: TinypipeError }) => void;
  /** Told of every answered request, with the host's clock at both ends (e.g. a `TraceRecorder`). */
  onRequest?: (event: PipelineRequestEvent) => void;
}

/**
 * One request as the host saw it: a TOKEN or ACTIVATION sent on the link to board `sentTo` and the answer
 * from board `answeredBy` (star: the same board; chain: the first board in, the last board out).
 * Times are `performance.now()` ms on the host: hops and compute both lie between them.
 */
export interface PipelineRequestEvent {
  stream: number;
  pos: number;
  kind: 'token' | 'activation';
  sentTo: number;
  answeredBy: number;
  sentAt: number;
  answeredAt: number;
}

type Waiter = {
  pos: number;
  resolve: (m: Answer) => void;
  reject: (e: unknown) => void;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The LOGITS slices so far, once the first arrived. */
  logits?: LogitsAssembly;
};
type Answer = Exclude<
  Message,
  { kind: 'start' | 'end' | 'stats' | 'stats-request' | 'calibrate-request' | 'calibration' }
>;

/** Failures a board's reboot or a cable explains: worth reconnecting and replaying. */
function recoverable(e: unknown): e is TinypipeError {
  if (!TinypipeError.isInstance(e)) return false;
  if (['PORT_DISCONNECTED', 'TIMEOUT', 'PEER_RESET', 'LINK_DOWN'].includes(e.code)) return true;
  // chain: a board reported that the next one stopped answering (tp_status TP_E_NEXT_SILENT)
  return e.code === 'REMOTE_ERROR' && (e.details as { code?: number } | undefined)?.code === 15;
}

/** How many abandoned positions per stream the host still recognises late answers for. */
const LATE_KEPT = 4;

/**
 * One link the host holds, with a reader routing answers to whoever waits for that stream and position
 * (docs/protocol.md §5.2). Nothing is kept for later: an answer nobody waits for is counted and dropped —
 * late answers of a request abandoned by a fault too — so a flooding board costs no memory.
 */
class Port {
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
  /** Where STATS answers go while `Pipeline.boardStats` asks; dropped otherwise. */
  onStats: ((port: Port, counters: BoardCounters) => void) | undefined;

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
        if (
          m.kind === 'hashes' ||
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
  async request(m: Message & { stream: number; pos: number }, from: Port = this): Promise<Answer> {
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

const hex = (b: Uint8Array | undefined) =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'none';

/** WRONG_MODEL (naming the board) unless `link`'s HELLO is the board `want` of the plan. */
function checkBoard(link: Link, plan: PipelinePlan, board: number): void {
  const peer = link.peer;
  const want = plan.stages[board]!;
  if (!peer)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${board}: its link has not shaken hands (use ReliableLink.connect)`,
    );
  const wrong: string[] = [];
  if (hex(peer.fingerprint) !== hex(plan.fingerprint))
    wrong.push(
      `model ${hex(peer.fingerprint).slice(0, 16)}…, the plan's is ${hex(plan.fingerprint).slice(0, 16)}…`,
    );
  if (peer.layers?.[0] !== want.layers[0] || peer.layers?.[1] !== want.layers[1])
    wrong.push(`layers [${peer.layers?.join(', ')}), the plan says [${want.layers.join(', ')})`);
  const v = want.vocab ?? [0, 0];
  if ((peer.vocab?.[0] ?? 0) !== v[0] || (peer.vocab?.[1] ?? 0) !== v[1])
    wrong.push(`classifier rows [${peer.vocab?.join(', ')}), the plan says [${v.join(', ')})`);
  if (want.embedding && !peer.caps.embedding) wrong.push('no embedding, the plan puts it here');
  if (wrong.length)
    throw new TinypipeError(
      'WRONG_MODEL',
      `board ${board} holds ${wrong.join('; ')}: flash it with its image of this plan`,
      { details: { board } },
    );
  if (!(peer.streams >= 1))
    throw new TinypipeError('INVALID_ARGUMENT', `board ${board} reports room for no stream`);
}

/**
 * MIXED_BUILD unless the boards are of one build (docs/reliability.md): every board that reports a build
 * id reports the same one, and it is `plan.build` when that is given (then a board without one — a
 * version-1 or unstamped image — is refused too). Names each board and its build.
 */
function checkBuilds(links: readonly Link[], plan: PipelinePlan, boards: readonly number[]): void {
  const reported = links.map((l, i) => ({ board: boards[i]!, build: hex(l.peer?.build) }));
  const builds = new Set(reported.filter((r) => r.build !== 'none').map((r) => r.build));
  const expected = plan.build ? hex(plan.build) : undefined;
  const mixed = expected ? reported.some((r) => r.build !== expected) : builds.size > 1;
  if (!mixed) return;
  const each = reported.map((r) => `board ${r.board}: build ${r.build}`).join(', ');
  throw new TinypipeError(
    'MIXED_BUILD',
    `the boards are not of one build (${each}${expected ? `; this build is ${expected}` : ''}): flash every board from the same \`tinypipe build\` directory`,
    { details: { expected: expected ?? [...builds][0], actual: reported } },
  );
}

export class Pipeline {
  readonly config: ModelConfig;
  readonly topology: Topology;
  /** Streams every board has room for: how many sequences can be in flight. */
  readonly streams: number;
  readonly #plan: PipelinePlan;
  readonly #ports: Port[];
  readonly #options: PipelineOptions;
  readonly #free: number[];
  readonly #queue: ((stream: number) => void)[] = [];
  #recovering: Promise<void> | undefined;
  /** Streams re-prefilled after a fault, since connect. */
  resumes = 0;
  #statsAsked: Promise<unknown> = Promise.resolve();
  #tokens = 0;
  #generating = 0;
  #busySince = 0;
  #busyMs = 0;

  private constructor(plan: PipelinePlan, ports: Port[], streams: number, options: PipelineOptions) {
    this.config = plan.config;
    this.topology = options.topology ?? 'star';
    this.#plan = plan;
    this.#ports = ports;
    this.#options = options;
    this.streams = streams;
    this.#free = Array.from({ length: streams }, (_, i) => i);
    for (const p of ports) {
      p.onRequest = options.onRequest;
      p.vocab = plan.config.vocabSize;
      p.dim = plan.config.dim;
      p.timeoutMs = options.requestTimeoutMs ?? p.timeoutMs;
    }
    if (this.topology === 'chain') {
      // the first board's link carries only ERRORs back (a board whose next board is gone): they are
      // the answer the last board will never send
      const [first, last] = ports as [Port, Port];
      first.onError = (stream, e) => {
        if (stream === -1) last.rejectAll(e);
        else last.reject(stream, e);
      };
      first.onFailure = (e) => last.rejectAll(e);
    }
  }

  /**
   * Checks that each link reaches the board the plan expects (its HELLO: fingerprint, layers, classifier
   * rows) and returns the pipeline; WRONG_MODEL naming the board otherwise. Then that the boards are of
   * one build (their HELLO's build id; `plan.build` when given): MIXED_BUILD naming each board and its
   * build otherwise — before anything is sent. In a chain the host sees the
   * first and the last board; each board checks the next one's HELLO itself and reports a refusal.
   */
  static connect(links: readonly Link[], plan: PipelinePlan, options: PipelineOptions = {}): Pipeline {
    const chain = options.topology === 'chain';
    const n = plan.stages.length;
    if (chain ? links.length !== 2 : links.length !== n)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        chain
          ? `a chain takes two links (to the first board, and from the last board's second port), ${links.length} were given`
          : `the plan has ${n} boards, ${links.length} links were given`,
      );
    plan.stages.forEach((s, i) => {
      const holds = s.vocab && s.vocab[1] > s.vocab[0];
      if (holds && (i !== n - 1 || s.vocab![0] !== 0 || s.vocab![1] !== plan.config.vocabSize))
        throw new TinypipeError(
          'INVALID_ARGUMENT',
          'the pipeline runs plans whose last board holds the whole classifier (plan with --no-split-classifier)',
        );
    });
    const boards = chain ? [0, n - 1] : links.map((_, i) => i);
    for (const [i, link] of links.entries()) checkBoard(link, plan, boards[i]!);
    checkBuilds(links, plan, boards);
    const streams = Math.min(...links.map((l) => l.peer!.streams));
    return new Pipeline(
      plan,
      links.map((l, i) => new Port(boards[i]!, l, chain)),
      streams,
      options,
    );
  }

  /** `token` at `pos` through every board: the last board's answer (its logits, or its sampled TOKEN). */
  async #run(
    stream: number,
    token: number,
    pos: number,
  ): Promise<{ logits: Float32Array } | { token: number }> {
    const ports = this.#ports;
    const last = ports[ports.length - 1]!;
    let answer: Answer;
    if (this.topology === 'chain')
      answer = await ports[0]!.request({ kind: 'token', stream, pos, token }, last);
    else {
      answer = await ports[0]!.request({ kind: 'token', stream, pos, token });
      for (const b of ports.slice(1)) {
        if (answer.kind !== 'activation')
          throw badReply({ board: b.board - 1, stream, pos }, `answered ${answer.kind}, not ACTIVATION`);
        answer = await b.request({ kind: 'activation', stream, pos, x: answer.x });
      }
    }
    if (answer.kind === 'token') return { token: answer.token };
    if (answer.kind !== 'logits')
      throw badReply({ board: last.board, stream, pos }, `answered ${answer.kind}, not LOGITS or TOKEN`);
    return { logits: answer.logits }; // every row, checked as the slices came (Port.next)
  }

  /** Logits (vocab_size) of `token` at `pos` in `stream`, through every board (host-side sampling). */
  async forward(stream: number, token: number, pos: number): Promise<Float32Array> {
    const r = await this.#run(stream, token, pos);
    if ('logits' in r) return r.logits;
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      'this stream samples on the board: it returns tokens, not logits',
    );
  }

  /** One stream as an engine (for `generate`; it does not resume after faults, `generate()` does). */
  engine(stream: number): AsyncLogitsEngine {
    return { config: this.config, forward: (token, pos) => this.forward(stream, token, pos) };
  }

  async #acquire(): Promise<number> {
    const s = this.#free.shift();
    if (s !== undefined) return s;
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  #release(stream: number): void {
    const next = this.#queue.shift();
    if (next) next(stream);
    else this.#free.push(stream);
  }

  /** Whether the last board can sample (llama2.c's sampler in C): then only a TOKEN crosses back. */
  get samplesOnBoard(): boolean {
    return this.#ports[this.#ports.length - 1]!.link.peer?.caps.sampler === true;
  }

  /** START on every board (star) or on the first, which relays it down the chain. */
  async #start(
    stream: number,
    start: Omit<Extract<Message, { kind: 'start' }>, 'kind' | 'stream' | 'sample'>,
    sample: boolean,
  ) {
    const ports = this.topology === 'chain' ? [this.#ports[0]!] : this.#ports;
    for (const [i, b] of ports.entries())
      await b.send({
        kind: 'start',
        stream,
        ...start,
        // only the last board samples (in a chain every board sees the flag; only the classifier's holder acts)
        sample: sample && (this.topology === 'chain' || i === ports.length - 1),
      });
  }

  /** Reconnects every failed link (one recovery at a time, shared by the streams that need it). */
  async #recover(): Promise<void> {
    this.#recovering ??= (async () => {
      try {
        for (const [i, port] of this.#ports.entries()) {
          if (!port.failure) continue;
          const link = await this.#options.reconnect!(i);
          checkBoard(link, this.#plan, port.board);
          port.replace(link);
        }
      } finally {
        this.#recovering = undefined;
      }
    })();
    return this.#recovering;
  }

  /**
   * Streams tokens (with the ms each took); concurrent calls share the boards, one stream each. With
   * `sampling` (and a last board that can), the board samples — the same tokens as the host's `Sampler`
   * with `exp: 'spec'` for that seed; otherwise the host samples with `sampler`.
   */
  async *generate(
    options: Omit<GenerateOptions, 'engine' | 'sampler'> & {
      sampler?: GenerateOptions['sampler'];
      sampling?: { temperature: number; topp: number; seed: number | bigint };
    },
  ): AsyncGenerator<GeneratedToken & { ms: number }> {
    // the board checks START's parameters too (ERROR INVALID_ARGUMENT); refuse them here with their own codes
    if (options.sampling) validateSamplerOptions({ vocabSize: 1, ...options.sampling });
    const onBoard = options.sampling !== undefined && this.samplesOnBoard;
    const sampler = options.sampler;
    if (!onBoard && !sampler)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        'give a sampler, or sampling options for a board that samples',
      );
    const { promptTokens, steps } = preparePrompt({
      ...options,
      engine: this.engine(0),
      sampler: sampler ?? { sample: () => 0 },
    });
    const stream = await this.#acquire();
    if (this.#generating++ === 0) this.#busySince = performance.now();
    try {
      const s = options.sampling ?? { temperature: 0, topp: 1, seed: 0 };
      const start = {
        hashes: false,
        temperature: s.temperature,
        topp: s.topp,
        seed: BigInt(s.seed),
        sampleFrom: Math.max(0, promptTokens.length - 1),
      };
      const resumeWithin = this.#options.resumeWithinMs ?? 15_000;
      /** tokens[pos] went in at pos: the history a resume replays. */
      const tokens: number[] = [promptTokens[0]!];
      /** One position with resume: after a recoverable fault, reconnect, START again and replay 0…pos−1. */
      const step = async (pos: number) => {
        let since: number | undefined;
        for (;;) {
          try {
            return await this.#run(stream, tokens[pos]!, pos);
          } catch (e) {
            if (!this.#options.reconnect || !recoverable(e)) throw e;
            since ??= performance.now();
            if (performance.now() - since > resumeWithin) throw e;
            this.#options.onResume?.({ stream, pos, error: e });
            try {
              await this.#recover();
              await this.#start(stream, start, onBoard);
              for (let p = 0; p < pos; p++) {
                const r = await this.#run(stream, tokens[p]!, p);
                // the board's sampler redraws what it drew before (same seed, same logits): a self-check
                if ('token' in r && p >= start.sampleFrom && r.token !== tokens[p + 1])
                  throw new TinypipeError(
                    'REMOTE_ERROR',
                    `resuming stream ${stream}: position ${p} gave token ${r.token}, first time ${tokens[p + 1]}`,
                  );
              }
              this.resumes++;
            } catch (again) {
              if (!recoverable(again)) throw again;
              await new Promise((r) => setTimeout(r, 200)); // the board is not back yet
            }
          }
        }
      };
      await this.#start(stream, start, onBoard);
      const decoder = new PieceDecoder();
      let last = performance.now();
      for (let pos = 0; pos < steps; pos++) {
        if (options.signal?.aborted)
          throw new TinypipeError('ABORTED', 'generation was aborted', { cause: options.signal.reason });
        const r = await step(pos);
        const forced = pos + 1 < promptTokens.length;
        let next: number;
        if (forced) next = promptTokens[pos + 1]!;
        else if ('token' in r) {
          if (r.token >= this.config.vocabSize)
            throw badReply(
              { board: this.#ports[this.#ports.length - 1]!.board, stream, pos },
              `sent no sampled token (${r.token}) at a position it samples`,
            );
          next = r.token;
        } else if (onBoard || !sampler)
          throw new TinypipeError('REMOTE_ERROR', 'the last board sent logits, not a sampled token');
        else next = sampler.sample(r.logits);
        if (next === BOS) break;
        const piece = decoder.push(options.tokenizer.decodePiece(tokens[pos]!, next));
        tokens.push(next);
        this.#tokens++;
        const now = performance.now();
        yield { token: next, piece, pos, prompt: forced, ms: now - last };
        last = now;
      }
    } finally {
      if (--this.#generating === 0) this.#busyMs += performance.now() - this.#busySince;
      this.#release(stream);
    }
  }

  /** Tokens all `generate()` calls yielded per second while at least one was running (since connect). */
  get tokensPerSecond(): number {
    const ms = this.#busyMs + (this.#generating ? performance.now() - this.#busySince : 0);
    return ms > 0 ? (this.#tokens * 1000) / ms : 0;
  }

  /**
   * Asks every board for its own counters (a STATS message; in a chain it travels from board to board, so
   * the boards the host has no link to answer too): positions computed and their compute time measured on
   * the board, frames and bytes both ways on its links, its retransmissions and dropped frames. TIMEOUT,
   * naming the silent boards, when not all answer within `timeoutMs` (default 2,000).
   */
  async boardStats(options: { timeoutMs?: number } = {}): Promise<BoardStats[]> {
    const asked = this.#statsAsked.then(() => this.#askStats(options.timeoutMs ?? 2000));
    this.#statsAsked = asked.catch(() => {});
    return asked;
  }

  async #askStats(timeoutMs: number): Promise<BoardStats[]> {
    const stages = this.#plan.stages;
    const got = new Map<number, BoardCounters>();
    const chain = this.topology === 'chain';
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        let arrived = 0;
        for (const p of this.#ports)
          p.onStats = (port, c) => {
            // star: the port says which board (one ESP-IDF build may report the same index on every board);
            // chain: every answer comes up the last link, in board order (each board passes the earlier
            // answers on before its own); a board that names itself (its HELLO's index) is taken at its word
            const order = arrived++;
            const board = !chain ? port.board : c.board < stages.length ? c.board : order;
            if (board >= stages.length) return;
            got.set(board, c);
            if (got.size === stages.length) resolve();
          };
        timer = setTimeout(() => {
          const silent = stages.map((_, i) => i).filter((i) => !got.has(i));
          reject(
            new TinypipeError(
              'TIMEOUT',
              `board(s) ${silent.join(', ')} did not answer STATS within ${timeoutMs} ms: check that they run this firmware and their links are up`,
              { details: { boards: silent } },
            ),
          );
        }, timeoutMs);
        const ask = chain ? [this.#ports[0]!] : this.#ports;
        Promise.all(ask.map((p) => p.send({ kind: 'stats-request' }))).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      for (const p of this.#ports) p.onStats = undefined; // answers to a request that timed out are dropped
    }
    return stages.map((s, i) => {
      const c = got.get(i)!;
      const computeMs = c.computeUs / 1000;
      return {
        ...c,
        board: i,
        layers: s.layers,
        computeMs,
        msPerForward: c.forwards ? computeMs / c.forwards : 0,
      };
    });
  }

  stats(): StageStats[] {
    return this.#ports.map((b) => {
      const s = b.link.stats();
      return {
        board: b.board,
        messages: b.messages,
        busyMs: b.busyMs,
        retransmits: s.retransmits,
        bytesSent: s.bytesSent,
        bytesReceived: s.bytesReceived,
        unsolicited: b.unsolicited,
        malformed: b.malformed,
      };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#ports.map((b) => b.link.close().catch(() => {})));
  }
}
