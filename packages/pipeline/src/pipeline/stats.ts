/**
 * What the pipeline counts: per host link (`HostLinkStats`, the host's own account), per board (its STATS
 * answer, `BoardStats`), and the tokens per second of all `generate()` calls.
 */

import type { BoardCounters } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';
import type { BoardPort } from './board-port.js';
import type { PipelinePlan, Topology } from './plan.js';

/** The host's account of one link it holds (`Pipeline.stats()`). */
export interface HostLinkStats {
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

/** @deprecated use HostLinkStats */
export type StageStats = HostLinkStats;

/** One board's own account (its STATS answer, `Pipeline.boardStats()`), with its place in the plan. */
export interface BoardStats extends BoardCounters {
  /** The layers `[from, to)` it runs. */
  layers: readonly [number, number];
  /** Compute of all the positions it ran, ms (measured on the board; 0 if its port has no µs clock). */
  computeMs: number;
  /** Compute per position it ran, ms. */
  msPerForward: number;
}

export function hostLinkStats(ports: readonly BoardPort[]): HostLinkStats[] {
  return ports.map((b) => {
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

/** Tokens per second while at least one generation runs (the idle time between them not counted). */
export class Throughput {
  #tokens = 0;
  #generating = 0;
  #busySince = 0;
  #busyMs = 0;

  begin(): void {
    if (this.#generating++ === 0) this.#busySince = performance.now();
  }

  token(): void {
    this.#tokens++;
  }

  end(): void {
    if (--this.#generating === 0) this.#busyMs += performance.now() - this.#busySince;
  }

  get tokensPerSecond(): number {
    const ms = this.#busyMs + (this.#generating ? performance.now() - this.#busySince : 0);
    return ms > 0 ? (this.#tokens * 1000) / ms : 0;
  }
}

/**
 * Every board's STATS answer (in a chain it travels from board to board, so the boards the host has no link
 * to answer too), or TIMEOUT naming the silent boards when not all answer within `timeoutMs`.
 */
export async function askBoardStats(
  ports: readonly BoardPort[],
  plan: PipelinePlan,
  topology: Topology,
  timeoutMs: number,
): Promise<BoardStats[]> {
  const stages = plan.stages;
  const got = new Map<number, BoardCounters>();
  const chain = topology === 'chain';
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      let arrived = 0;
      for (const p of ports)
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
      const ask = chain ? [ports[0]!] : ports;
      Promise.all(ask.map((p) => p.send({ kind: 'stats-request' }))).catch(reject);
    });
  } finally {
    clearTimeout(timer);
    for (const p of ports) p.onStats = undefined; // answers to a request that timed out are dropped
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
