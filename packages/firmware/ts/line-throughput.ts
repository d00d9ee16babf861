/**
 * The TS host ↔ C board link at a line rate, over a real PTY (the posix board with --line-baud): TOKENs in,
 * 1152-byte ACTIVATIONs out as fast as the board's line carries them, with real timers. Used by
 * line-baud.test.ts (1,000 activations) and `npm run bench:link` (10,000; docs/performance.md).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, quantize, splitSelections, synthesize } from '@tinypipe/core';
import { decodeMessage, encodeMessage, type Message } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { spawnPtyBoard } from './pty-board.js';

/** Streams the board serves (its KV caches), each with one request in flight, as a pipeline drives it. */
const STREAMS = 4;

/**
 * A one-layer stage of a synthetic dim-288 model (an activation is 1152 bytes, stories15M's residual) with
 * the embedding, so a TOKEN becomes an ACTIVATION; ~1 ms of compute, well under its 12.5 ms on the line.
 */
export function writeThroughputImage(dir: string): { path: string; fingerprint: Uint8Array } {
  const qm = quantize(
    synthesize(
      {
        dim: 288,
        hiddenDim: 768,
        nLayers: 2,
        nHeads: 6,
        nKvHeads: 6,
        vocabSize: 32,
        seqLen: 256,
        sharedClassifier: true,
      },
      1,
    ),
    { weights: 'q8' },
  );
  const [first] = splitSelections(qm.config, [1, 1], 1);
  const path = join(dir, 'line-throughput-stage0.img');
  writeFileSync(path, buildImage(qm, first!));
  return { path, fingerprint: qm.fingerprint };
}

export interface LineThroughput {
  activations: number;
  /** The board's activation bytes × 10 bits ÷ (baud × elapsed): the share of its line carrying payload. */
  lineUtilisation: number;
  hostRetransmits: number;
  boardRetransmits: number;
  /** DATA frames each end received twice (on a clean line, each a spurious retransmission). */
  hostDuplicates: number;
  /** The host's smoothed RTT at the end (ms). */
  hostRttMs: number;
  /**
   * Times this host's thread could not run for longer than `stallMs` (a loaded machine): the board's
   * ACKs wait that long, and its retransmission timer, which cannot know, may fire.
   */
  hostStalls: number;
  longestHostStallMs: number;
  /**
   * Times the board's process could not run for longer than `stallMs` (its `--stall-ms` ticker, measured as
   * the host's stalls are): the board's ACKs wait that long, and the host's retransmission timer may fire.
   */
  boardStalls: number;
  /** Each board stall's length (ms), in order. */
  boardStallsMs: number[];
  longestBoardStallMs: number;
  elapsedMs: number;
}

/**
 * The stalls a board started with `--stall-ms` reported in its log (`tinypipe-board: stall: N ms` lines,
 * ports/posix/pty_stall.c), each in ms, in order.
 */
export function parseBoardStalls(log: string): number[] {
  return [...log.matchAll(/^tinypipe-board: stall: (\d+) ms$/gm)].map((m) => Number(m[1]));
}

/**
 * Spawns a board on `image` at `baud`, sends `frames` TOKENs over `STREAMS` streams (one in flight each)
 * and times the ACTIVATIONs coming back; the board's counters come from STATS.
 */
export async function runLineThroughput(
  image: { path: string; fingerprint: Uint8Array },
  frames: number,
  baud = 921_600,
  stallMs = 40,
): Promise<LineThroughput> {
  const board = await spawnPtyBoard(image.path, {
    board: 0,
    lineBaud: baud,
    streams: STREAMS,
    stallMs,
  });
  let hostStalls = 0;
  let longestHostStallMs = 0;
  let tick = performance.now();
  const watch = setInterval(() => {
    const now = performance.now();
    longestHostStallMs = Math.max(longestHostStallMs, now - tick);
    if (now - tick > stallMs) hostStalls++;
    tick = now;
  }, 5);
  try {
    const port = await openSerialPort(board.path, { baudRate: baud });
    const link = await ReliableLink.connect(port, {
      expect: { fingerprint: image.fingerprint, layers: [0, 1] },
    });
    const reader = link.messages.getReader();
    const token = (i: number) =>
      void link.send(
        encodeMessage({
          kind: 'token',
          stream: i % STREAMS,
          pos: Math.floor(i / STREAMS) % 256,
          token: i % 32,
        }),
      );
    const started = performance.now();
    for (let i = 0; i < Math.min(STREAMS, frames); i++) token(i);
    let bytes = 0;
    for (let i = 0; i < frames; i++) {
      const m = decodeMessage((await reader.read()).value!);
      if (m.kind !== 'activation') throw new Error(`the board answered ${m.kind}: ${JSON.stringify(m)}`);
      bytes += m.x.length * 4;
      if (i + STREAMS < frames) token(i + STREAMS);
    }
    const elapsedMs = performance.now() - started;
    await link.send(encodeMessage({ kind: 'stats-request' }));
    const stats = decodeMessage((await reader.read()).value!) as Extract<Message, { kind: 'stats' }>;
    const host = link.stats();
    const boardStalls = parseBoardStalls(board.log());
    reader.releaseLock();
    await link.close();
    return {
      activations: frames,
      lineUtilisation: (bytes * 10) / ((baud * elapsedMs) / 1000),
      hostRetransmits: host.retransmits,
      boardRetransmits: stats.retransmits,
      hostDuplicates: host.duplicates,
      hostRttMs: host.rttMs,
      hostStalls,
      longestHostStallMs,
      boardStalls: boardStalls.length,
      boardStallsMs: boardStalls,
      longestBoardStallMs: Math.max(0, ...boardStalls),
      elapsedMs,
    };
  } finally {
    clearInterval(watch);
    await board.kill();
  }
}
