/**
 * The host side of a pipeline of boards (star topology: every board on its own link, the host relays):
 * a TOKEN to the first board, each board's ACTIVATION to the next, the last board's LOGITS back — the same
 * numbers as `QuantEngine` on the host, bit for bit (docs/numerics.md), so sampling on the host with the
 * llama2.c sampler gives the tokens `tinypipe generate --quant` gives.
 *
 * Several sequences in flight: each board keeps a KV cache per stream and works on whichever stream's
 * message arrives, so while board 1 runs stream 0, board 0 runs stream 1 — N boards add throughput.
 * `generate()` calls share the boards; each takes a free stream (waiting for one if all are busy).
 */
import type { ModelConfig } from '../checkpoint/types.js';
import { TinypipeError } from '../errors/tinypipe-error.js';
import {
  type AsyncLogitsEngine,
  type GeneratedToken,
  type GenerateOptions,
  generate,
  preparePrompt,
} from '../generate/generate.js';
import type { Link } from '../link/types.js';
import { decodeMessage, encodeMessage, type Message } from '../protocol/messages.js';
import type { QuantizedModel } from '../quant/types.js';
import { BOS, PieceDecoder } from '../tokenizer/tokenizer.js';

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
  board: number;
  messages: number;
  /** Time from sending to this board to its answer, summed (ms): its compute plus both hops. */
  busyMs: number;
  retransmits: number;
  bytesSent: number;
  bytesReceived: number;
}

type Waiter = { resolve: (m: Message) => void; reject: (e: unknown) => void };

/** One board: its link, a reader routing answers to whoever waits for that stream. */
class Board {
  readonly #waiting = new Map<number, Waiter[]>();
  /** Answers that arrived before anyone asked (the later slices of LOGITS). */
  readonly #early = new Map<number, Message[]>();
  #failure: TinypipeError | undefined;
  messages = 0;
  busyMs = 0;

  constructor(
    readonly index: number,
    readonly link: Link,
  ) {
    void this.#read();
  }

  async #read(): Promise<void> {
    const reader = this.link.messages.getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new TinypipeError('LINK_DOWN', `board ${this.index}: its link closed`);
        const m = decodeMessage(value);
        const stream = m.kind === 'error' ? (m.stream ?? -1) : m.stream;
        if (m.kind === 'hashes') continue;
        const w = this.#waiting.get(stream)?.shift() ?? (stream === -1 ? this.#anyWaiter() : undefined);
        if (!w) {
          // nobody asked yet (the later slices of LOGITS, or an ERROR answering a START): keep it for the
          // next request of that stream
          this.#early.set(stream, [...(this.#early.get(stream) ?? []), m]);
          continue;
        }
        this.#settle(w, m);
      }
    } catch (e) {
      this.#fail(
        TinypipeError.isInstance(e)
          ? e
          : new TinypipeError('LINK_DOWN', `board ${this.index}: ${String(e)}`, { cause: e }),
      );
    } finally {
      reader.releaseLock();
    }
  }

  #settle(w: Waiter, m: Message): void {
    if (m.kind === 'error')
      w.reject(
        new TinypipeError('REMOTE_ERROR', `board ${this.index}: ${m.text} (firmware status ${m.code})`, {
          details: { board: this.index, code: m.code },
        }),
      );
    else w.resolve(m);
  }

  #anyWaiter(): Waiter | undefined {
    for (const q of this.#waiting.values()) if (q.length) return q.shift();
    return undefined;
  }

  #fail(e: TinypipeError): void {
    this.#failure = e;
    for (const q of this.#waiting.values()) for (const w of q.splice(0)) w.reject(e);
  }

  /** This board's next answer for `stream`. */
  next(stream: number): Promise<Message> {
    if (this.#failure) return Promise.reject(this.#failure);
    const early = this.#early.get(stream)?.shift();
    if (early) return new Promise<Message>((resolve, reject) => this.#settle({ resolve, reject }, early));
    return new Promise<Message>((resolve, reject) => {
      const q = this.#waiting.get(stream) ?? [];
      q.push({ resolve, reject });
      this.#waiting.set(stream, q);
    });
  }

  /** Sends `m` and resolves with this board's next answer for the same stream. */
  async request(m: Message & { stream: number }): Promise<Message> {
    if (this.#failure) throw this.#failure;
    const started = performance.now();
    const answer = this.next(m.stream);
    answer.catch(() => {}); // awaited below; a failed send must not leave its rejection unhandled
    await this.link.send(encodeMessage(m));
    const r = await answer;
    this.messages++;
    this.busyMs += performance.now() - started;
    return r;
  }

  async send(m: Message): Promise<void> {
    if (this.#failure) throw this.#failure;
    await this.link.send(encodeMessage(m));
  }
}

const hex = (b: Uint8Array | undefined) =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'none';

export class Pipeline {
  readonly config: ModelConfig;
  /** Streams every board has room for: how many sequences can be in flight. */
  readonly streams: number;
  readonly #boards: Board[];
  readonly #free: number[];
  readonly #queue: ((stream: number) => void)[] = [];

  private constructor(config: ModelConfig, boards: Board[], streams: number) {
    this.config = config;
    this.#boards = boards;
    this.streams = streams;
    this.#free = Array.from({ length: streams }, (_, i) => i);
  }

  /**
   * Checks that each link reaches the board the plan expects (its HELLO: fingerprint, layers, classifier
   * rows) and returns the pipeline; WRONG_MODEL naming the board otherwise.
   */
  static connect(links: readonly Link[], plan: PipelinePlan): Pipeline {
    if (links.length !== plan.stages.length)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `the plan has ${plan.stages.length} boards, ${links.length} links were given`,
      );
    const last = plan.stages.length - 1;
    plan.stages.forEach((s, i) => {
      const holds = s.vocab && s.vocab[1] > s.vocab[0];
      if (holds && (i !== last || s.vocab![0] !== 0 || s.vocab![1] !== plan.config.vocabSize))
        throw new TinypipeError(
          'INVALID_ARGUMENT',
          'the pipeline runs plans whose last board holds the whole classifier (plan with --no-split-classifier)',
        );
    });
    let streams = Number.POSITIVE_INFINITY;
    links.forEach((link, i) => {
      const peer = link.peer;
      const want = plan.stages[i]!;
      if (!peer)
        throw new TinypipeError(
          'INVALID_ARGUMENT',
          `board ${i}: its link has not shaken hands (use ReliableLink.connect)`,
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
          `board ${i} holds ${wrong.join('; ')}: flash it with its image of this plan`,
          { details: { board: i } },
        );
      streams = Math.min(streams, peer.streams);
    });
    if (!(streams >= 1)) throw new TinypipeError('INVALID_ARGUMENT', 'a board reports room for no stream');
    return new Pipeline(
      plan.config,
      links.map((l, i) => new Board(i, l)),
      streams,
    );
  }

  /** `token` at `pos` through every board: the last board's answer (its logits, or its sampled TOKEN). */
  async #run(
    stream: number,
    token: number,
    pos: number,
  ): Promise<{ logits: Float32Array } | { token: number }> {
    let x: Float32Array | undefined;
    for (const [i, b] of this.#boards.entries()) {
      const answer = await b.request(
        i === 0 ? { kind: 'token', stream, pos, token } : { kind: 'activation', stream, pos, x: x! },
      );
      if (answer.kind === 'activation') {
        x = answer.x;
        continue;
      }
      if (answer.kind === 'token') return { token: answer.token };
      if (answer.kind !== 'logits')
        throw new TinypipeError('REMOTE_ERROR', `board ${i} answered ${answer.kind}`);
      // LOGITS in slices of consecutive rows, in order
      const logits = new Float32Array(this.config.vocabSize);
      let got = answer;
      logits.set(got.logits, got.vocabFrom);
      while (got.vocabFrom + got.logits.length < this.config.vocabSize) {
        got = (await b.next(stream)) as Extract<Message, { kind: 'logits' }>;
        logits.set(got.logits, got.vocabFrom);
      }
      return { logits };
    }
    throw new TinypipeError('INVALID_ARGUMENT', 'no board holds the classifier');
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

  /** One stream as an engine (for `generate`). */
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
    return this.#boards[this.#boards.length - 1]!.link.peer?.caps.sampler === true;
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
    const onBoard = options.sampling !== undefined && this.samplesOnBoard;
    if (!onBoard && !options.sampler)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        'give a sampler, or sampling options for a board that samples',
      );
    const stream = await this.#acquire();
    try {
      const { promptTokens, steps } = preparePrompt({
        ...options,
        engine: this.engine(stream),
        sampler: options.sampler!,
      });
      const s = options.sampling ?? { temperature: 0, topp: 1, seed: 0 };
      for (const [i, b] of this.#boards.entries())
        await b.send({
          kind: 'start',
          stream,
          hashes: false,
          sample: onBoard && i === this.#boards.length - 1, // only the last board samples
          temperature: s.temperature,
          topp: s.topp,
          seed: BigInt(s.seed),
          sampleFrom: Math.max(0, promptTokens.length - 1),
        });
      let last = performance.now();
      if (!onBoard) {
        for await (const t of generate({
          ...options,
          sampler: options.sampler!,
          engine: this.engine(stream),
        })) {
          const now = performance.now();
          yield { ...t, ms: now - last };
          last = now;
        }
        return;
      }
      // the board samples: the generate loop, with the next token from the last board
      const decoder = new PieceDecoder();
      let token = promptTokens[0]!;
      for (let pos = 0; pos < steps; pos++) {
        if (options.signal?.aborted)
          throw new TinypipeError('ABORTED', 'generation was aborted', { cause: options.signal.reason });
        const r = await this.#run(stream, token, pos);
        const forced = pos + 1 < promptTokens.length;
        if (!('token' in r))
          throw new TinypipeError('REMOTE_ERROR', 'the last board sent logits, not a sampled token');
        const next = forced ? promptTokens[pos + 1]! : r.token;
        if (next === BOS) break;
        const piece = decoder.push(options.tokenizer.decodePiece(token, next));
        token = next;
        const now = performance.now();
        yield { token: next, piece, pos, prompt: forced, ms: now - last };
        last = now;
      }
    } finally {
      this.#release(stream);
    }
  }

  stats(): StageStats[] {
    return this.#boards.map((b) => {
      const s = b.link.stats();
      return {
        board: b.index,
        messages: b.messages,
        busyMs: b.busyMs,
        retransmits: s.retransmits,
        bytesSent: s.bytesSent,
        bytesReceived: s.bytesReceived,
      };
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#boards.map((b) => b.link.close()));
  }
}
