import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import type { PipelineRequestEvent } from '../pipeline/pipeline.js';
import {
  type ChromeTrace,
  ChromeTraceSchema,
  chromeTrace,
  parseChromeTrace,
  TRACE_BOARDS_PID,
  TRACE_STREAMS_PID,
} from './chrome-trace.js';

type X = Extract<ChromeTrace['traceEvents'][number], { ph: 'X' }>;
const spans = (t: ChromeTrace) => t.traceEvents.filter((e): e is X => e.ph === 'X');

/** Checks that no two spans of one track overlap (nesting inside a round span is allowed). */
function expectNoOverlap(list: X[]): void {
  const sorted = [...list].sort((a, b) => a.ts - b.ts);
  for (let i = 1; i < sorted.length; i++)
    expect(sorted[i]!.ts, `${sorted[i]!.name} after ${sorted[i - 1]!.name}`).toBeGreaterThanOrEqual(
      sorted[i - 1]!.ts + sorted[i - 1]!.dur - 1e-6,
    );
}

/** Star, 2 boards, 2 streams interleaved: board 0 answers in 4 ms, board 1 in 6 ms (compute 3 and 5). */
function star(positions: number): PipelineRequestEvent[] {
  const out: PipelineRequestEvent[] = [];
  for (let pos = 0; pos < positions; pos++)
    for (const stream of [0, 1]) {
      const t = pos * 20 + stream * 5;
      out.push(
        { stream, pos, kind: 'token', sentTo: 0, answeredBy: 0, sentAt: t, answeredAt: t + 4 },
        { stream, pos, kind: 'activation', sentTo: 1, answeredBy: 1, sentAt: t + 4.5, answeredAt: t + 10.5 },
      );
    }
  return out;
}

describe('chromeTrace', () => {
  it('star: one track per board, compute spans inside the requests, hops between, totals as the STATS', () => {
    const boards = [
      { layers: [0, 3] as const, computeMs: 3 * 8, forwards: 8 },
      { layers: [3, 5] as const, computeMs: 5 * 8, forwards: 8 },
    ];
    const t = chromeTrace({ requests: star(4), boards, about: { model: 'test' } });
    expect(v.safeParse(ChromeTraceSchema, t).success).toBe(true);
    expect(JSON.parse(JSON.stringify(t))).toEqual(t);
    const threads = t.traceEvents.filter((e) => e.ph === 'M' && e.name === 'thread_name');
    expect(threads.filter((e) => e.pid === TRACE_BOARDS_PID).map((e) => e.tid)).toEqual([1, 2]);
    expect(threads.filter((e) => e.pid === TRACE_STREAMS_PID).map((e) => e.tid)).toEqual([1, 2]);
    for (const [i, b] of boards.entries()) {
      const own = spans(t).filter((e) => e.pid === TRACE_BOARDS_PID && e.tid === i + 1);
      expect(own).toHaveLength(8);
      expectNoOverlap(own);
      expect(own.reduce((a, e) => a + e.dur, 0) / 1000).toBeCloseTo(b.computeMs, 6);
    }
    // stream 0, position 0: host→board 0 (0.5), board 0 (3), board 0→board 1 (1.5 incl. the host), board 1 (5), board 1→host (0.5)
    const first = spans(t).filter((e) => e.pid === TRACE_STREAMS_PID && e.tid === 1 && e.args.pos === 0);
    expect(first.map((e) => [e.name, e.ts, e.dur])).toEqual([
      ['pos 0', 0, 10500],
      ['host→board 0', 0, 500],
      ['board 0', 500, 3000],
      ['board 0→board 1', 3500, 1500],
      ['board 1', 5000, 5000],
      ['board 1→host', 10000, 500],
    ]);
    expectNoOverlap(first.filter((e) => e.cat !== 'round'));
    expect(t.otherData.model).toBe('test');
    expect(parseChromeTrace(JSON.parse(JSON.stringify(t)))).toEqual(t);
    const broken = { ...t, traceEvents: [{ ...spans(t)[0]!, dur: -1 }] };
    expect(() => parseChromeTrace(broken)).toThrow(/traceEvents\.0\.dur/);
  });

  it('chain: the boards one after another inside each round; a board busy with another stream makes it wait', () => {
    const requests: PipelineRequestEvent[] = [
      { stream: 0, pos: 0, kind: 'token', sentTo: 0, answeredBy: 2, sentAt: 0, answeredAt: 10 },
      { stream: 1, pos: 0, kind: 'token', sentTo: 0, answeredBy: 2, sentAt: 1, answeredAt: 14 },
    ];
    const boards = [0, 1, 2].map((i) => ({ layers: [i, i + 1] as const, computeMs: 4, forwards: 2 }));
    const t = chromeTrace({ requests, boards });
    for (const b of [1, 2, 3])
      expectNoOverlap(spans(t).filter((e) => e.pid === TRACE_BOARDS_PID && e.tid === b));
    for (const s of [1, 2]) {
      const round = spans(t).filter((e) => e.pid === TRACE_STREAMS_PID && e.tid === s);
      expectNoOverlap(round.filter((e) => e.cat !== 'round'));
      const [outer, ...inner] = round;
      for (const e of inner) {
        expect(e.ts).toBeGreaterThanOrEqual(outer!.ts);
        expect(e.ts + e.dur).toBeLessThanOrEqual(outer!.ts + outer!.dur + 1e-6);
      }
      expect(inner.filter((e) => e.cat === 'compute').map((e) => e.name)).toEqual([
        'board 0',
        'board 1',
        'board 2',
      ]);
    }
  });
});
