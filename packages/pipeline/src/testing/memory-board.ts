/**
 * `memoryBoard`: a board in memory — the TS stage computation (`QuantStage`, the numbers `QuantEngine` and
 * the C firmware give) behind a `Link`, answering START / TOKEN / ACTIVATION / END / STATS the way the C
 * board does (docs/protocol.md §5, firmware src/serve.c), with hooks to inject faults: a reset (the board
 * reboots: a new session, PEER_RESET on its link, its streams gone), a stall (it stops answering, its link
 * stays up, then answers late) and a dropped link. For tests of host-side code (the pipeline's resume,
 * reconnect and timeouts) without the C boards. Star topology: each board answers on the link the request
 * came in on. Its link is in `memory-link.ts`; stream state and the classifier-slice answers in
 * `memory-slice.ts`.
 */

import type { QuantizedModel, StageSelection, StageWeights } from '@tinypipe/core';
import { QuantStage, Sampler, sliceStage as sliceStageWeights, validateSamplerOptions } from '@tinypipe/core';
import {
  decodeMessage,
  encodeMessage,
  HELLO_PROTOCOL,
  type HelloInfo,
  type KvFormat,
  type Link,
  type Message,
  TinypipeError,
} from '@tinypipe/protocol';
import { MemoryLink } from './memory-link.js';
import {
  answerSliced,
  keepSlice,
  logitsMessages,
  NO_TOKEN,
  refusal,
  type StreamState,
  TP_E_ARG,
  TP_E_NONFINITE,
  TP_E_UNSUPPORTED,
} from './memory-slice.js';

export { zeroLinkStats } from './memory-link.js';

export interface MemoryBoardOptions {
  /** Its index in the plan (its HELLO's `board`; default 0). */
  board?: number;
  /** Streams (KV caches) it has room for (default 2). */
  streams?: number;
  /** Its image's build id (8 bytes), reported in its HELLO; default none. */
  build?: Uint8Array;
  /**
   * Its image's KV cache format (docs/numerics.md §6b; default `'fp32'`): its stage stores keys and
   * values in it, and its HELLO reports it (`caps.kv`).
   */
  kv?: KvFormat;
  /**
   * Told of each message before the board handles it (e.g. to `reset()` it mid-request: the message is
   * then lost with the old session, as on a board that rebooted while computing).
   */
  onMessage?: (m: Message, board: MemoryBoard) => void;
}

export interface MemoryBoard {
  /** Its HELLO (what a link to it reports as `peer`). */
  readonly hello: HelloInfo;
  /** The link the host holds now (the last `connect()`), until it fails or closes. */
  readonly link: Link | undefined;
  /**
   * TOKEN and ACTIVATION messages it computed, since it was made (a reset does not clear it); a TOKEN it
   * only embedded (it holds the embedding, not the first layers) is not counted.
   */
  readonly forwards: number;
  /** A new link to the board, as `ReliableLink.connect` after a reboot gives; the previous one is closed. */
  connect(): Link;
  /**
   * The board reboots: its streams (KV caches, samplers) are gone, the messages not yet handled are lost,
   * and its link fails with PEER_RESET (a new link session). `connect()` reaches it again.
   */
  reset(): void;
  /** It stops handling messages (a hung firmware: its link stays up and takes them) until `wake()`. */
  stall(): void;
  /** It handles the messages that came while it stalled, answering each on the link it came in on. */
  wake(): void;
  /** The link to it is lost (a cable pulled: PORT_DISCONNECTED by default); the board keeps its streams. */
  dropLink(code?: 'PORT_DISCONNECTED' | 'LINK_DOWN'): void;
}

/** The board holding stage `selection` of `qm` (the weights `buildImage(qm, selection)` would flash). */
export function memoryBoard(
  qm: QuantizedModel,
  selection: StageSelection,
  options: MemoryBoardOptions = {},
): MemoryBoard {
  const weights: StageWeights = { ...sliceStageWeights(qm, selection), kv: options.kv ?? 'fp32' };
  const index = options.board ?? 0;
  const config = qm.config;
  const vocab = weights.classifier?.vocab;
  const hello: HelloInfo = {
    protocol: HELLO_PROTOCOL,
    role: 'board',
    board: index,
    fingerprint: qm.fingerprint,
    layers: weights.layerRange,
    vocab: vocab ?? [0, 0],
    maxPayload: 4096,
    streams: options.streams ?? 2,
    caps: {
      embedding: weights.embedding !== undefined,
      classifier: vocab !== undefined,
      sampler: vocab !== undefined && vocab[0] === 0 && vocab[1] === config.vocabSize,
      kv: weights.kv,
    },
    baud: 0,
    build: options.build,
  };
  return new Board(weights, hello, options.onMessage);
}

class Board implements MemoryBoard {
  link: MemoryLink | undefined;
  forwards = 0;
  #computeUs = 0;
  readonly #streams = new Map<number, StreamState>();
  /** Messages received, handled one at a time in order (each a macrotask: streams interleave). */
  readonly #queue: { link: MemoryLink; bytes: Uint8Array }[] = [];
  #stalled = false;
  #pumping = false;

  constructor(
    readonly weights: StageWeights,
    readonly hello: HelloInfo,
    readonly onMessage: MemoryBoardOptions['onMessage'],
  ) {}

  connect(): Link {
    void this.link?.close();
    this.link = new MemoryLink(this.hello, (link, bytes) => {
      this.#queue.push({ link, bytes });
      this.#pump();
    });
    return this.link;
  }

  reset(): void {
    this.#streams.clear();
    this.#queue.length = 0;
    this.#stalled = false;
    this.link?.fail(
      new TinypipeError(
        'PEER_RESET',
        `board ${this.hello.board} restarted (a new link session): its streams are gone`,
        { details: { board: this.hello.board } },
      ),
    );
  }

  stall(): void {
    this.#stalled = true;
  }

  wake(): void {
    this.#stalled = false;
    this.#pump();
  }

  dropLink(code: 'PORT_DISCONNECTED' | 'LINK_DOWN' = 'PORT_DISCONNECTED'): void {
    this.link?.fail(new TinypipeError(code, `the link to board ${this.hello.board} was lost`));
  }

  #pump(): void {
    if (this.#pumping || this.#stalled || this.#queue.length === 0) return;
    this.#pumping = true;
    setTimeout(() => {
      this.#pumping = false;
      if (this.#stalled) return;
      const next = this.#queue.shift();
      if (next?.link.up) this.#receive(next.link, next.bytes);
      this.#pump();
    }, 0);
  }

  #receive(link: MemoryLink, bytes: Uint8Array): void {
    let m: Message;
    try {
      m = decodeMessage(bytes);
    } catch {
      link.answer(encodeMessage(refusal(undefined, TP_E_ARG, 'malformed or unexpected message')));
      return;
    }
    this.onMessage?.(m, this);
    if (!link.up) return; // the hook reset the board or dropped its link: the message is lost
    for (const answer of this.#handle(link, m)) link.answer(encodeMessage(answer));
  }

  /** The messages the board sends back for `m` (none for START and END). */
  #handle(link: MemoryLink, m: Message): Message[] {
    if (m.kind === 'stats-request') {
      const s = link.stats();
      return [
        {
          kind: 'stats',
          board: this.hello.board ?? 0,
          forwards: this.forwards,
          computeUs: Math.round(this.#computeUs),
          framesOut: s.framesReceived,
          framesIn: s.framesSent,
          bytesOut: s.bytesReceived,
          bytesIn: s.bytesSent,
          retransmits: 0,
          dropped: 0,
        },
      ];
    }
    const takes = ['start', 'end', 'token', 'activation', 'classify', 'histogram-request', 'draw'];
    if (!takes.includes(m.kind) || !('stream' in m) || m.stream === undefined)
      return [refusal('stream' in m ? m.stream : undefined, TP_E_ARG, 'a board does not take this message')];
    if (m.stream >= this.hello.streams)
      return [refusal(m.stream, TP_E_ARG, 'no such stream: more than this board has room for')];
    const state = this.#stream(m.stream);
    if (m.kind === 'token' || m.kind === 'activation') return this.#forward(state, m);
    if (m.kind === 'classify' || m.kind === 'histogram-request' || m.kind === 'draw')
      return answerSliced(state, m, this.weights.config.dim);
    if (m.kind !== 'start' && m.kind !== 'end') return [];
    state.hashes = m.kind === 'start' && m.hashes;
    state.sampler = undefined;
    state.sliced = undefined;
    state.slice = undefined;
    if (m.kind === 'start' && m.sliced) {
      if (!this.weights.classifier)
        return [refusal(m.stream, TP_E_UNSUPPORTED, 'this board holds no classifier rows to sample over')];
      try {
        validateSamplerOptions({ vocabSize: 1, temperature: m.temperature, topp: m.topp, seed: m.seed });
      } catch {
        return [refusal(m.stream, TP_E_ARG, 'START: temperature must be finite and >= 0, topp in [0, 1]')];
      }
      state.sliced = { temperature: m.temperature, topp: Math.fround(m.topp) };
      return [];
    }
    if (m.kind === 'end' || !m.sample) return [];
    if (!this.hello.caps.sampler)
      return [refusal(m.stream, TP_E_UNSUPPORTED, 'this board cannot sample: it needs the whole classifier')];
    try {
      state.sampler = new Sampler({
        vocabSize: this.weights.config.vocabSize,
        temperature: m.temperature,
        topp: m.topp,
        seed: m.seed,
        exp: 'spec',
      });
    } catch {
      return [refusal(m.stream, TP_E_ARG, 'START: temperature must be finite and >= 0, topp in [0, 1]')];
    }
    state.sampleFrom = m.sampleFrom;
    return [];
  }

  /** The stream's state, made at its first message (the C board has every stream ready from boot). */
  #stream(stream: number): StreamState {
    let s = this.#streams.get(stream);
    if (!s) {
      s = {
        stage: new QuantStage(this.weights),
        hashes: false,
        sampler: undefined,
        sampleFrom: 0,
        sliced: undefined,
        slice: undefined,
      };
      this.#streams.set(stream, s);
    }
    return s;
  }

  /** TOKEN → embed and forward, ACTIVATION → forward; then ACTIVATION, LOGITS slices or a sampled TOKEN. */
  #forward(state: StreamState, m: Extract<Message, { kind: 'token' | 'activation' }>): Message[] {
    const { stream, pos } = m;
    const started = performance.now();
    const hashes: number[] = [];
    let x: Float32Array;
    let logits: Float32Array | undefined;
    try {
      if (m.kind === 'activation' && m.x.length !== this.weights.config.dim)
        return [refusal(stream, TP_E_ARG, 'activation is not dim floats')];
      x = m.kind === 'token' ? state.stage.embed(m.token) : Float32Array.from(m.x);
      // the embedding without the first layers (a star): the row goes back for the host to relay to board 0
      if (m.kind === 'token' && this.weights.layerRange[0] > 0)
        return [{ kind: 'activation', stream, pos, x }];
      state.stage.forward(x, pos, hashes);
      if (state.sliced && state.stage.vocab) {
        // a classifier slice sampling with the host: the last stage keeps its rows' scaled logits and
        // answers the final activation (the host sends it on to the other slices); earlier ones do not classify
        if (this.weights.layerRange[1] === this.weights.config.nLayers) keepSlice(state, pos, x);
        logits = undefined;
      } else if (state.stage.vocab) logits = state.stage.classify(x);
    } catch (e) {
      if (TinypipeError.isInstance(e) && e.code === 'NONFINITE')
        return [
          refusal(stream, TP_E_NONFINITE, `an activation or logit became NaN or infinite: ${e.message}`),
        ];
      return [refusal(stream, TP_E_ARG, `this stage cannot run this message: ${(e as Error).message}`)];
    }
    this.forwards++;
    this.#computeUs += (performance.now() - started) * 1000;
    const out: Message[] = [];
    if (state.hashes)
      out.push({
        kind: 'hashes',
        stream,
        pos,
        layerFrom: this.weights.layerRange[0],
        hashes: Uint32Array.from(hashes),
      });
    const vocab = state.stage.vocab;
    if (!logits || !vocab) out.push({ kind: 'activation', stream, pos, x });
    else if (state.sampler) {
      // a prompt position: no token, the RNG is left alone, as in llama2.c
      const token = pos >= state.sampleFrom ? state.sampler.sample(Float32Array.from(logits)) : NO_TOKEN;
      out.push({ kind: 'token', stream, pos, token });
    } else out.push(...logitsMessages(stream, pos, vocab[0], logits));
    return out;
  }
}
