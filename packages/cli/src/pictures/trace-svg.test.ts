import { findAll, parseXml } from '@tinypipe/partitioner/testing';
import {
  chromeTrace,
  type PipelineRequestEvent,
  TRACE_BOARDS_PID,
  TRACE_STREAMS_PID,
} from '@tinypipe/pipeline';
import { describe, expect, it } from 'vitest';
import { renderTraceSvg } from './trace-svg.js';

/** Chain of two boards, one stream: each position 10 ms, boards computing 3 and 4 ms. */
const requests: PipelineRequestEvent[] = Array.from({ length: 10 }, (_, pos) => ({
  stream: 0,
  pos,
  kind: 'token',
  sentTo: 0,
  answeredBy: 1,
  sentAt: pos * 10,
  answeredAt: pos * 10 + 10,
}));
const trace = chromeTrace({
  requests,
  boards: [
    { layers: [0, 2], computeMs: 30, forwards: 10 },
    { layers: [2, 5], computeMs: 40, forwards: 10 },
  ],
  about: { boards: '2', topology: 'chain', streams: '1' },
});

describe('renderTraceSvg', () => {
  it('a row per board and per stream; positions 4–7 by default, spans as wide as they last', () => {
    const svg = parseXml(renderTraceSvg(trace));
    const tracks = findAll(svg, (e) => e.attrs.class === 'track');
    expect(tracks.map((t) => [Number(t.attrs['data-pid']), Number(t.attrs['data-tid'])])).toEqual([
      [TRACE_BOARDS_PID, 1],
      [TRACE_BOARDS_PID, 2],
      [TRACE_STREAMS_PID, 1],
    ]);
    const compute = (t: number) => findAll(tracks[t]!, (e) => e.attrs['data-cat'] === 'compute');
    expect(compute(0)).toHaveLength(4); // positions 4–7: 40 ms of 10 ms rounds
    const w0 = Number(compute(0)[0]!.attrs.width);
    const w1 = Number(compute(1)[0]!.attrs.width);
    expect(w1 / w0).toBeCloseTo(4 / 3, 2);
    // the stream's row: per position host→board 0, board 0, board 0→board 1, board 1, board 1→host
    expect(findAll(tracks[2]!, (e) => e.attrs.class === 'span')).toHaveLength(4 * 5);
  });

  it('draws a window given in µs', () => {
    const svg = parseXml(renderTraceSvg(trace, { fromUs: 0, toUs: 100_000 }));
    const board0 = findAll(svg, (e) => e.attrs.class === 'track')[0]!;
    expect(findAll(board0, (e) => e.attrs['data-cat'] === 'compute')).toHaveLength(10);
  });
});
