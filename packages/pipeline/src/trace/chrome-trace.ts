/**
 * A pipeline run as a Chrome trace (the trace-event JSON format Perfetto and chrome://tracing open):
 * one track per board with its compute spans, and one track per stream with each position's round —
 * the hops (host→board, board→board, board→host) and the boards' compute in order.
 *
 * What is measured and what is placed: the host measures when it sent each request and when the answer
 * came (`PipelineRequestEvent`, its own clock); a board reports only its total compute and positions
 * (STATS). So each compute span is the board's mean compute per position, placed inside the request it
 * answered (star: between the host's send and the answer, with the hops either side split evenly; chain:
 * the boards one after another inside the round, the rest split evenly over the hops), and never
 * overlapping the board's previous span. Hop spans are what lies between. `args.placed` marks them.
 */

import { TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';
import type { PipelineRequestEvent } from '../pipeline/pipeline.js';

/** The subset of the trace-event format this module writes. */
export const ChromeTraceEventSchema = v.variant('ph', [
  v.object({
    ph: v.literal('M'),
    name: v.picklist(['process_name', 'thread_name', 'process_sort_index', 'thread_sort_index']),
    pid: v.pipe(v.number(), v.integer()),
    tid: v.pipe(v.number(), v.integer()),
    args: v.union([v.object({ name: v.string() }), v.object({ sort_index: v.number() })]),
  }),
  v.object({
    ph: v.literal('X'),
    name: v.string(),
    cat: v.picklist(['compute', 'hop', 'round']),
    pid: v.pipe(v.number(), v.integer()),
    tid: v.pipe(v.number(), v.integer()),
    // µs from the first request
    ts: v.pipe(v.number(), v.minValue(0)),
    dur: v.pipe(v.number(), v.minValue(0)),
    args: v.object({
      stream: v.pipe(v.number(), v.integer()),
      pos: v.pipe(v.number(), v.integer()),
      board: v.optional(v.pipe(v.number(), v.integer())),
      placed: v.boolean(),
    }),
  }),
]);

export const ChromeTraceSchema = v.object({
  traceEvents: v.array(ChromeTraceEventSchema),
  displayTimeUnit: v.literal('ms'),
  otherData: v.record(v.string(), v.string()),
});

export type ChromeTrace = v.InferOutput<typeof ChromeTraceSchema>;
export type ChromeTraceEvent = v.InferOutput<typeof ChromeTraceEventSchema>;

/** Checks that `value` (a parsed trace file) is a trace as `chromeTrace` writes it; INVALID_ARGUMENT naming what is not. */
export function parseChromeTrace(value: unknown): ChromeTrace {
  const checked = v.safeParse(ChromeTraceSchema, value);
  if (checked.success) return checked.output;
  const where = (i: v.BaseIssue<unknown>) => i.path?.map((p) => String(p.key)).join('.') ?? '(root)';
  throw new TinypipeError(
    'INVALID_ARGUMENT',
    `not a tinypipe trace: ${checked.issues.map((i) => `${where(i)}: ${i.message}`).join('; ')}`,
  );
}

/** The process ids of the two groups of tracks. */
export const TRACE_BOARDS_PID = 1;
export const TRACE_STREAMS_PID = 2;

export interface ChromeTraceInput {
  /** Every request the host made (`PipelineOptions.onRequest`). */
  requests: readonly PipelineRequestEvent[];
  /** Per board, in order: its layers and its STATS (compute of all its positions, and how many). */
  boards: readonly {
    layers: readonly [number, number];
    computeMs: number;
    forwards: number;
    /** What the board holds, for its track's name (default: its layers). */
    label?: string;
  }[];
  /** Free text for the trace's metadata (model, topology, what was measured). */
  about?: Record<string, string>;
}

interface Span {
  board: number;
  start: number;
  end: number;
  /** The latest end the span may have: the answer it is part of. */
  bound: number;
}

/** One position of one stream: its requests, in the order they were made. */
interface Round {
  stream: number;
  pos: number;
  requests: PipelineRequestEvent[];
  compute: Span[];
}

const us = (ms: number) => Math.round(ms * 1e6) / 1e3;

function rounds(requests: readonly PipelineRequestEvent[]): Round[] {
  const byKey = new Map<string, Round>();
  const out: Round[] = [];
  for (const r of [...requests].sort((a, b) => a.sentAt - b.sentAt)) {
    const key = `${r.stream}/${r.pos}`;
    let round = byKey.get(key);
    // a position sent again (a resume replays it) starts a new round once its previous round is complete
    if (!round || (r.kind === 'token' && round.requests.length > 0)) {
      round = { stream: r.stream, pos: r.pos, requests: [], compute: [] };
      byKey.set(key, round);
      out.push(round);
    }
    round.requests.push(r);
  }
  return out;
}

/** Each board's compute spans inside its requests, before they are kept apart. */
function place(round: Round, meanMs: readonly number[]): void {
  for (const r of round.requests) {
    const boards = Array.from({ length: r.answeredBy - r.sentTo + 1 }, (_, k) => r.sentTo + k);
    const total = r.answeredAt - r.sentAt;
    const want = boards.reduce((a, b) => a + meanMs[b]!, 0);
    const fit = want > total ? total / want : 1; // a request faster than the means: shrink them alike
    const hop = Math.max(0, total - want * fit) / (boards.length + 1);
    let t = r.sentAt;
    for (const b of boards) {
      t += hop;
      const dur = meanMs[b]! * fit;
      round.compute.push({ board: b, start: t, end: t + dur, bound: r.answeredAt });
      t += dur;
    }
  }
}

/**
 * The trace of a run: metadata naming the tracks, then every span, by time. Deterministic for the same
 * input; times in µs from the first request.
 */
export function chromeTrace(input: ChromeTraceInput): ChromeTrace {
  const meanMs = input.boards.map((b) => (b.forwards ? b.computeMs / b.forwards : 0));
  const all = rounds(input.requests);
  for (const r of all) place(r, meanMs);
  // a board computes one message at a time, in the order it answers them, and a round's boards one after
  // another: in that order each span starts once its board and the round's previous board are done
  const order = all.flatMap((r, round) => r.compute.map((span, k) => ({ span, round, k })));
  order.sort((a, b) => a.span.bound - b.span.bound || a.round - b.round || a.k - b.k);
  const boardFree = input.boards.map(() => Number.NEGATIVE_INFINITY);
  const roundFree = all.map(() => Number.NEGATIVE_INFINITY);
  for (const { span, round } of order) {
    const dur = span.end - span.start;
    span.start = Math.max(span.start, boardFree[span.board] ?? span.start, roundFree[round]!);
    span.end = Math.max(span.start, Math.min(span.start + dur, span.bound));
    boardFree[span.board] = span.end;
    roundFree[round] = span.end;
  }
  const t0 = Math.min(...input.requests.map((r) => r.sentAt));
  const at = (ms: number) => us(ms - t0);
  const streams = [...new Set(all.map((r) => r.stream))].sort((a, b) => a - b);
  const name = (b: number) => `board ${b}`;
  const meta: ChromeTraceEvent[] = [
    { ph: 'M', name: 'process_name', pid: TRACE_BOARDS_PID, tid: 0, args: { name: 'boards (compute)' } },
    { ph: 'M', name: 'process_sort_index', pid: TRACE_BOARDS_PID, tid: 0, args: { sort_index: 1 } },
    {
      ph: 'M',
      name: 'process_name',
      pid: TRACE_STREAMS_PID,
      tid: 0,
      args: { name: 'streams (hops and compute per position)' },
    },
    { ph: 'M', name: 'process_sort_index', pid: TRACE_STREAMS_PID, tid: 0, args: { sort_index: 2 } },
    ...input.boards.flatMap((b, i): ChromeTraceEvent[] => [
      {
        ph: 'M',
        name: 'thread_name',
        pid: TRACE_BOARDS_PID,
        tid: i + 1,
        args: { name: `${name(i)} · ${b.label ?? `layers ${b.layers[0]}–${b.layers[1] - 1}`}` },
      },
      { ph: 'M', name: 'thread_sort_index', pid: TRACE_BOARDS_PID, tid: i + 1, args: { sort_index: i } },
    ]),
    ...streams.flatMap((s): ChromeTraceEvent[] => [
      { ph: 'M', name: 'thread_name', pid: TRACE_STREAMS_PID, tid: s + 1, args: { name: `stream ${s}` } },
      { ph: 'M', name: 'thread_sort_index', pid: TRACE_STREAMS_PID, tid: s + 1, args: { sort_index: s } },
    ]),
  ];
  const spans: ChromeTraceEvent[] = [];
  const span = (
    nameOf: string,
    cat: 'compute' | 'hop' | 'round',
    pid: number,
    tid: number,
    from: number,
    to: number,
    args: { stream: number; pos: number; board?: number; placed: boolean },
  ) => {
    // both ends rounded alike, so a span that starts where another ends never overlaps it by a rounding
    const ts = at(from);
    spans.push({
      ph: 'X',
      name: nameOf,
      cat,
      pid,
      tid,
      ts,
      dur: Math.max(0, Math.round((at(to) - ts) * 1e3) / 1e3),
      args,
    });
  };
  for (const r of all) {
    const first = r.requests[0]!;
    const end = r.requests[r.requests.length - 1]!.answeredAt;
    const tid = r.stream + 1;
    const where = { stream: r.stream, pos: r.pos };
    span(`pos ${r.pos}`, 'round', TRACE_STREAMS_PID, tid, first.sentAt, end, { ...where, placed: false });
    let t = first.sentAt;
    let from = 'host';
    for (const c of r.compute) {
      span(`${from}→${name(c.board)}`, 'hop', TRACE_STREAMS_PID, tid, t, c.start, { ...where, placed: true });
      span(name(c.board), 'compute', TRACE_STREAMS_PID, tid, c.start, c.end, {
        ...where,
        board: c.board,
        placed: true,
      });
      span(`pos ${r.pos}`, 'compute', TRACE_BOARDS_PID, c.board + 1, c.start, c.end, {
        ...where,
        board: c.board,
        placed: true,
      });
      t = c.end;
      from = name(c.board);
    }
    span(`${from}→host`, 'hop', TRACE_STREAMS_PID, tid, t, end, { ...where, placed: true });
  }
  spans.sort((a, b) => (a.ph === 'X' && b.ph === 'X' ? a.ts - b.ts || a.pid - b.pid || a.tid - b.tid : 0));
  return {
    traceEvents: [...meta, ...spans],
    displayTimeUnit: 'ms',
    otherData: {
      measured:
        "on the host: each request's send and its answer (pos spans); by each board: its compute per position, on average (STATS)",
      placed:
        "compute spans: the board's mean per position placed inside the request it answered; hops: what lies between",
      ...input.about,
    },
  };
}
