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

import {
  type AsyncLogitsEngine,
  BOS,
  type GeneratedToken,
  type GenerateOptions,
  type ModelConfig,
  PieceDecoder,
  preparePrompt,
  SlicedSampler,
  validateSamplerOptions,
} from '@tinypipe/core';
import type { Plan } from '@tinypipe/partitioner';
import type { Link } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';
import { checkLinks } from './board-check.js';
import { BoardPort } from './board-port.js';
import { type EmbeddingSource, resolveEmbedder } from './embedder.js';
import { type BuildIdentity, pipelinePlanOf, planRequestTimeouts } from './from-plan.js';
import type { PipelineOptions, PipelinePlan, Topology } from './plan.js';
import { badReply } from './replies.js';
import { Reconnector, type ResumableStream, runResuming } from './resume.js';
import { type ClassifierSlice, classifierSlices, sampleSlices } from './sliced.js';
import { askBoardStats, type BoardStats, type HostLinkStats, hostLinkStats, Throughput } from './stats.js';
import { StreamPool } from './streams.js';
import { type PositionAnswer, runPosition, type StartFields, startStream, wireChain } from './topology.js';

export {
  type PipelineOptions,
  type PipelinePlan,
  type PipelineRequestEvent,
  type PipelineStage,
  pipelinePlan,
  type Topology,
} from './plan.js';
export type { BoardStats, HostLinkStats, StageStats } from './stats.js';

export class Pipeline {
  readonly config: ModelConfig;
  readonly topology: Topology;
  /** Streams every board has room for: how many sequences can be in flight. */
  readonly streams: number;
  readonly #plan: PipelinePlan;
  readonly #ports: BoardPort[];
  readonly #options: PipelineOptions;
  readonly #pool: StreamPool;
  readonly #reconnector: Reconnector | undefined;
  readonly #throughput = new Throughput();
  /** A split classifier's slices (docs/numerics.md §10b); empty when the last board holds it all. */
  readonly #slices: ClassifierSlice[];
  /** Where the row comes from when board 0 does not embed (the first board then gets ACTIVATION). */
  readonly #embed: EmbeddingSource;
  /** Streams re-prefilled after a fault, since connect. */
  resumes = 0;
  #statsAsked: Promise<unknown> = Promise.resolve();

  private constructor(
    plan: PipelinePlan,
    ports: BoardPort[],
    streams: number,
    options: PipelineOptions,
    embed: EmbeddingSource,
  ) {
    this.#embed = embed;
    this.config = plan.config;
    this.topology = options.topology ?? 'star';
    this.#plan = plan;
    this.#ports = ports;
    this.#options = options;
    this.streams = streams;
    this.#pool = new StreamPool(streams);
    this.#slices = classifierSlices(plan);
    this.#reconnector = options.reconnect ? new Reconnector(ports, plan, options.reconnect) : undefined;
    const timeouts = options.requestTimeoutMs;
    for (const [i, p] of ports.entries()) {
      p.onRequest = options.onRequest;
      p.onHashes = options.onHashes;
      p.vocab = plan.config.vocabSize;
      p.dim = plan.config.dim;
      p.timeoutMs = (typeof timeouts === 'number' ? timeouts : timeouts?.[i]) ?? p.timeoutMs;
    }
    if (this.topology === 'chain') wireChain(ports);
  }

  /**
   * Checks that each link reaches the board the plan expects (its HELLO: fingerprint, layers, classifier
   * rows) and returns the pipeline; WRONG_MODEL naming the board otherwise. Then that the boards are of
   * one build (their HELLO's build id; `plan.build` when given): MIXED_BUILD naming each board and its
   * build otherwise — before anything is sent. A plan whose boards do not hold the embedding needs
   * `options.embedder` (INVALID_ARGUMENT saying so otherwise; see `Embedder`). In a chain the host sees the
   * first and the last board; each board checks the next one's HELLO itself and reports a refusal.
   */
  static connect(links: readonly Link[], plan: PipelinePlan, options: PipelineOptions = {}): Pipeline {
    const chain = options.topology === 'chain';
    const boards = checkLinks(links, plan, chain);
    const embed = resolveEmbedder(plan, options.embedder, chain ? 'chain' : 'star');
    const streams = Math.min(...links.map((l) => l.peer!.streams));
    return new Pipeline(
      plan,
      links.map((l, i) => new BoardPort(boards[i]!, l, chain)),
      streams,
      options,
      embed,
    );
  }

  /**
   * `connect` with the partitioner's plan (what `tinypipe plan` writes): the stages are its boards, and
   * `fingerprint` (and `build`, when the boards were flashed from a build: its manifests' `build`) say
   * which model and images they must hold. Unless `requestTimeoutMs` is given, each link's request
   * timeout comes from the plan's predicted time per position (`planRequestTimeouts`: at least 10 s, 20 ×
   * the prediction × the streams that can queue). To open the links too, see `connectBoards`.
   */
  static fromPlan(plan: Plan, links: readonly Link[], options: PipelineOptions & BuildIdentity): Pipeline {
    const { fingerprint, build, ...rest } = options;
    const streams = Math.min(...links.map((l) => l.peer?.streams ?? 1));
    return Pipeline.connect(links, pipelinePlanOf(plan, { fingerprint, build }), {
      ...rest,
      requestTimeoutMs: rest.requestTimeoutMs ?? planRequestTimeouts(plan, rest.topology ?? 'star', streams),
    });
  }

  /** `sampler`: a split classifier's sampling at a position it samples (undefined: a prompt position). */
  #run(stream: number, token: number, pos: number, sampler?: SlicedSampler): Promise<PositionAnswer> {
    const sliced =
      this.#slices.length > 0
        ? (x: Float32Array) => sampleSlices(this.#ports, this.#slices, stream, pos, x, sampler)
        : undefined;
    return runPosition(this.topology, this.#ports, stream, token, pos, sliced, this.#embed);
  }

  /** Logits (vocab_size) of `token` at `pos` in `stream`, through every board (host-side sampling). */
  async forward(stream: number, token: number, pos: number): Promise<Float32Array> {
    if (this.#slices.length > 0)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        'this plan splits the classifier: its boards sample with the host (generate with `sampling`) and send no logits',
      );
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

  /** Whether the last board can sample (llama2.c's sampler in C): then only a TOKEN crosses back. */
  get samplesOnBoard(): boolean {
    if (this.#slices.length > 0) return true; // the slices, with the host (docs/numerics.md §10b)
    return this.#ports[this.#ports.length - 1]!.link.peer?.caps.sampler === true;
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
    const stream = await this.#pool.acquire();
    this.#throughput.begin();
    try {
      const s = options.sampling ?? { temperature: 0, topp: 1, seed: 0 };
      const start: StartFields = {
        hashes: this.#options.onHashes !== undefined,
        temperature: s.temperature,
        topp: s.topp,
        seed: BigInt(s.seed),
        sampleFrom: Math.max(0, promptTokens.length - 1),
      };
      const sliced = this.#slices.length > 0;
      if (sliced && !onBoard)
        throw new TinypipeError(
          'INVALID_ARGUMENT',
          'this plan splits the classifier: give `sampling` (its boards sample with the host; they send no logits)',
        );
      let slicedSampler: SlicedSampler | undefined;
      const sliceBoards = new Set(this.#slices.map((s) => s.index));
      const restart = () => {
        // a restart (a resume) draws from the seed again, as a board's sampler does
        if (sliced) slicedSampler = new SlicedSampler({ vocabSize: this.config.vocabSize, ...s });
        return startStream(this.topology, this.#ports, stream, start, onBoard && !sliced, sliceBoards);
      };
      /** tokens[pos] went in at pos: the history a resume replays. */
      const tokens: number[] = [promptTokens[0]!];
      const resumable: ResumableStream = {
        stream,
        tokens,
        sampleFrom: start.sampleFrom,
        run: (token, pos) =>
          this.#run(stream, token, pos, pos >= start.sampleFrom ? slicedSampler : undefined),
        restart,
        resumed: () => this.resumes++,
      };
      await restart();
      const decoder = new PieceDecoder();
      let last = performance.now();
      for (let pos = 0; pos < steps; pos++) {
        if (options.signal?.aborted)
          throw new TinypipeError('ABORTED', 'generation was aborted', { cause: options.signal.reason });
        const r = await runResuming(resumable, pos, this.#reconnector, this.#options);
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
        this.#throughput.token();
        const now = performance.now();
        yield { token: next, piece, pos, prompt: forced, ms: now - last };
        last = now;
      }
    } finally {
      this.#throughput.end();
      this.#pool.release(stream);
    }
  }

  /** Tokens all `generate()` calls yielded per second while at least one was running (since connect). */
  get tokensPerSecond(): number {
    return this.#throughput.tokensPerSecond;
  }

  /**
   * Asks every board for its own counters (a STATS message; in a chain it travels from board to board, so
   * the boards the host has no link to answer too): positions computed and their compute time measured on
   * the board, frames and bytes both ways on its links, its retransmissions and dropped frames. TIMEOUT,
   * naming the silent boards, when not all answer within `timeoutMs` (default 2,000).
   */
  async boardStats(options: { timeoutMs?: number } = {}): Promise<BoardStats[]> {
    const asked = this.#statsAsked.then(() =>
      askBoardStats(this.#ports, this.#plan, this.topology, options.timeoutMs ?? 2000),
    );
    this.#statsAsked = asked.catch(() => {});
    return asked;
  }

  /** The host's account of each link it holds. */
  stats(): HostLinkStats[] {
    return hostLinkStats(this.#ports);
  }

  async close(): Promise<void> {
    await Promise.all(this.#ports.map((b) => b.link.close().catch(() => {})));
  }
}
