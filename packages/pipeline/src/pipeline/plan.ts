/** What the host's pipeline is told: the plan of the split (which board holds what) and its options. */

import type { ModelConfig, QuantizedModel } from '@tinypipe/core';
import type { KvFormat, Link, TinypipeError } from '@tinypipe/protocol';
import type { Embedder } from './embedder.js';

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
  /**
   * The KV cache format of the plan (docs/numerics.md §6b; default `'fp32'`): a board whose HELLO
   * reports another one (`caps.kv`, from its image's `kv_format`) is refused with WRONG_MODEL.
   */
  kv?: KvFormat | undefined;
}

/** The plan of a split made with `splitSelections` (the images `buildImage` makes from the same selections). */
export function pipelinePlan(
  qm: Pick<QuantizedModel, 'config' | 'fingerprint'>,
  selections: readonly {
    layers: readonly [number, number];
    embedding: boolean;
    classifier: false | readonly [number, number];
  }[],
  kv?: KvFormat,
): PipelinePlan {
  return {
    config: qm.config,
    fingerprint: qm.fingerprint,
    ...(kv !== undefined ? { kv } : {}),
    stages: selections.map((s) => ({
      layers: s.layers,
      embedding: s.embedding,
      vocab: s.classifier || null,
    })),
  };
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
   * How long one request waits for its whole answer (ms) before its stream fails with TIMEOUT: one figure
   * for every link, or one per link (in `links` order; in a chain the second link's is the one a request
   * waits on). Default 10,000 — over ten times a position of stories110M on one ESP32-S3, with a few
   * streams queued; `Pipeline.fromPlan` derives it from the plan's prediction (`planRequestTimeouts`).
   */
  requestTimeoutMs?: number | readonly number[];
  /**
   * The embedding on the host, for a plan where no board holds it (a plan with `embedding: 'host'`): a
   * `QuantStage` holding the embedding (from the build's host.tpimg) or `(token) => Float32Array`, the
   * dequantized row (docs/numerics.md §8). The host then sends `ACTIVATION(stream, pos, row)` to the
   * first board instead of `TOKEN` — the same bits the board would embed. Refused (INVALID_ARGUMENT)
   * when a board holds the embedding too: one place embeds.
   */
  embedder?: Embedder | undefined;
  /** Told when a stream re-prefills after a fault (for logs and progress). */
  onResume?: (event: { stream: number; pos: number; error: TinypipeError }) => void;
  /**
   * Told of the layer hashes every board reports (docs/numerics.md §9: the FNV-1a hash of the residual
   * stream after each of its layers, from `layerFrom` on): given, `generate()` asks the boards for them
   * (START's hashes flag). A resume replays positions, so they may be reported twice.
   */
  onHashes?: (event: { stream: number; pos: number; layerFrom: number; hashes: Uint32Array }) => void;
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
