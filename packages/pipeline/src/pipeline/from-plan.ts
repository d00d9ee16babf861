/**
 * From the partitioner's `Plan` (what `tinypipe plan` writes) to what the pipeline runs: its `PipelinePlan`
 * (the model's config, each board's layers, embedding and classifier rows) and request timeouts derived
 * from the plan's predicted time per position.
 */
import type { Plan } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import type { PipelinePlan, Topology } from './plan.js';

/** What a plan does not say about the boards: the model they hold and, when known, their build. */
export interface BuildIdentity {
  /** The quantized model's fingerprint: `QuantizedModel.fingerprint`, or a manifest's `fingerprint` (hex). */
  fingerprint: Uint8Array | string;
  /**
   * The build id every board must report: 8 bytes, or a manifest's `build` (hex). Without it, the boards
   * that report a build must still all report the same one.
   */
  build?: Uint8Array | string | undefined;
}

const FINGERPRINT_BYTES = 32;
const BUILD_BYTES = 8;

/** `value` as bytes (hex strings decoded), INVALID_ARGUMENT unless it is `bytes` long. */
export function identityBytes(value: Uint8Array | string, bytes: number, what: string): Uint8Array {
  const out =
    typeof value === 'string'
      ? /^(?:[0-9a-fA-F]{2})*$/.test(value)
        ? Uint8Array.from(value.match(/../g) ?? [], (h) => Number.parseInt(h, 16))
        : undefined
      : value;
  if (!out || out.length !== bytes)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `the ${what} is ${bytes} bytes (${bytes * 2} hex digits): ${typeof value === 'string' ? `"${value}"` : `${value.length} bytes`} was given (take it from the build's manifest.json)`,
    );
  return out;
}

/**
 * The pipeline's plan of a partitioner plan: its config, its boards in order, its KV cache format, the
 * model and build given.
 */
export function pipelinePlanOf(plan: Plan, identity: BuildIdentity): PipelinePlan {
  return {
    config: plan.model.config,
    fingerprint: identityBytes(identity.fingerprint, FINGERPRINT_BYTES, 'model fingerprint'),
    stages: plan.boards.map((b) => ({ layers: b.layers, embedding: b.embedding, vocab: b.vocab })),
    kv: plan.kv,
    ...(identity.build !== undefined
      ? { build: identityBytes(identity.build, BUILD_BYTES, 'build id') }
      : {}),
  };
}

/**
 * The shortest request timeout a plan gets (ms): the fixed default before timeouts came from the plan. A
 * request crosses one or more lines whose retransmissions back off (up to 2 s each, docs/protocol.md §4.0):
 * a 2 s floor timed out a chain of three boards at BER 1e-4 on a loaded machine (`demo --ber 1e-4`, 1 run in 6).
 * A silent board is noticed sooner anyway, by its link's heartbeat (2 s).
 */
export const MIN_REQUEST_TIMEOUT_MS = 10_000;
/** A request may take this many times the plan's predicted time before it times out. */
export const REQUEST_TIMEOUT_FACTOR = 20;
/** One board's predicted time for one position: its compute and the hop of its answer (ms). */
const positionMs = (p: Plan['boards'][number]['predicted']) =>
  Math.max(p.periodMs, p.layersMs + p.classifierMs + p.linkOutMs);
/** setTimeout's largest delay. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * The request timeout of each link (ms, in `links` order), from the plan's prediction: a request waits
 * behind at most `streams` others on a board, each taking the board's predicted time per position
 * (`boards[i].predicted`: `layersMs + classifierMs + linkOutMs`, its compute and the hop of its answer — at
 * least its `periodMs`). So a star link to board i gets
 * `max(10 s, 20 × position(i) × streams)`; a chain's answer crosses every board, so both its links get
 * `max(10 s, 20 × Σ position × streams)`. Twenty times covers a board slower than its profile (a datasheet
 * figure, a hot chip, retransmissions on a noisy line) without waiting long on a dead one.
 */
export function planRequestTimeouts(plan: Plan, topology: Topology, streams: number): number[] {
  const queued = Math.max(1, Number.isFinite(streams) ? streams : 1);
  const timeout = (positionMs: number) =>
    Math.min(
      MAX_TIMEOUT_MS,
      Math.max(MIN_REQUEST_TIMEOUT_MS, Math.ceil(REQUEST_TIMEOUT_FACTOR * positionMs * queued)),
    );
  if (topology === 'chain') {
    const all = timeout(plan.boards.reduce((sum, b) => sum + positionMs(b.predicted), 0));
    return [all, all];
  }
  return plan.boards.map((b) => timeout(positionMs(b.predicted)));
}
