/**
 * Resume after a fault: a board that resets or drops off mid-generation fails its link (PORT_DISCONNECTED,
 * TIMEOUT, PEER_RESET, LINK_DOWN). Given `reconnect`, the pipeline gets a new link to it, checks its HELLO
 * again, and the streams in flight re-prefill (their positions so far, replayed) and go on — the tokens are
 * the ones an undisturbed run gives.
 */

import type { Link } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';
import { checkBoard } from './board-check.js';
import type { BoardPort } from './board-port.js';
import type { PipelineOptions, PipelinePlan } from './plan.js';
import type { PositionAnswer } from './topology.js';

/** Failures a board's reboot or a cable explains: worth reconnecting and replaying. */
export function recoverable(e: unknown): e is TinypipeError {
  if (!TinypipeError.isInstance(e)) return false;
  if (['PORT_DISCONNECTED', 'TIMEOUT', 'PEER_RESET', 'LINK_DOWN'].includes(e.code)) return true;
  // chain: a board reported that the next one stopped answering (tp_status TP_E_NEXT_SILENT)
  return e.code === 'REMOTE_ERROR' && (e.details as { code?: number } | undefined)?.code === 15;
}

/** Reconnects every failed link (one recovery at a time, shared by the streams that need it). */
export class Reconnector {
  #recovering: Promise<void> | undefined;

  constructor(
    readonly ports: readonly BoardPort[],
    readonly plan: PipelinePlan,
    readonly reconnect: (index: number) => Promise<Link>,
  ) {}

  recover(): Promise<void> {
    this.#recovering ??= (async () => {
      try {
        for (const [i, port] of this.ports.entries()) {
          if (!port.failure) continue;
          const link = await this.reconnect(i);
          checkBoard(link, this.plan, port.board);
          port.replace(link);
        }
      } finally {
        this.#recovering = undefined;
      }
    })();
    return this.#recovering;
  }
}

/** One stream's way through positions, resuming after recoverable faults. */
export interface ResumableStream {
  stream: number;
  /** tokens[pos] went in at pos: the history a resume replays. */
  tokens: readonly number[];
  /** The first position whose answer the board samples (a replay checks it redraws the same token). */
  sampleFrom: number;
  /** One position through every board. */
  run: (token: number, pos: number) => Promise<PositionAnswer>;
  /** START this stream again on the boards. */
  restart: () => Promise<void>;
  /** Told each time the stream re-prefilled. */
  resumed: () => void;
}

/**
 * The answer at `pos`; after a recoverable fault (with `reconnect` given): reconnect, START again, replay
 * 0…pos−1 and try again — until `resumeWithinMs` (default 15,000) passed, then the last error.
 */
export async function runResuming(
  s: ResumableStream,
  pos: number,
  reconnector: Reconnector | undefined,
  options: Pick<PipelineOptions, 'resumeWithinMs' | 'onResume'>,
): Promise<PositionAnswer> {
  const within = options.resumeWithinMs ?? 15_000;
  let since: number | undefined;
  for (;;) {
    try {
      return await s.run(s.tokens[pos]!, pos);
    } catch (e) {
      if (!reconnector || !recoverable(e)) throw e;
      since ??= performance.now();
      if (performance.now() - since > within) throw e;
      options.onResume?.({ stream: s.stream, pos, error: e });
      try {
        await reconnector.recover();
        await s.restart();
        await replay(s, pos);
        s.resumed();
      } catch (again) {
        if (!recoverable(again)) throw again;
        await new Promise((r) => setTimeout(r, 200)); // the board is not back yet
      }
    }
  }
}

/** Positions 0…pos−1 again (the board's KV cache refilled). */
async function replay(s: ResumableStream, pos: number): Promise<void> {
  for (let p = 0; p < pos; p++) {
    const r = await s.run(s.tokens[p]!, p);
    // the board's sampler redraws what it drew before (same seed, same logits): a self-check
    if ('token' in r && p >= s.sampleFrom && r.token !== s.tokens[p + 1])
      throw new TinypipeError(
        'REMOTE_ERROR',
        `resuming stream ${s.stream}: position ${p} gave token ${r.token}, first time ${s.tokens[p + 1]}`,
      );
  }
}
