import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allText, findAll, parseXml } from '@tinypipe/partitioner/testing';
import { parseChromeTrace, TRACE_BOARDS_PID, TRACE_STREAMS_PID } from '@tinypipe/pipeline';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from './io/capture.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-pictures-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('tinypipe plan --svg', () => {
  it('writes the plan as an SVG with one group per board', async () => {
    const file = join(tmp, 'plan.svg');
    const r = await runCapture([
      'plan',
      '--model',
      'synth:15M',
      '--boards',
      'esp32s3-n16r8,esp32s3-n16r8',
      '--svg',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`picture written to ${file}`);
    const svg = parseXml(readFileSync(file, 'utf8'));
    expect(findAll(svg, (e) => e.attrs.class === 'board').map((g) => g.attrs['data-board'])).toEqual([
      '0',
      '1',
    ]);
    expect(allText(svg)).toContain('stories15M q4');
  });
});

describe('tinypipe eval --svg', () => {
  it('writes the quality figures as a chart, the same numbers as --json', async () => {
    const file = join(tmp, 'eval.svg');
    const r = await runCapture([
      'eval',
      '--quant',
      'q8',
      '--quant',
      'q4',
      '--steps',
      '24',
      '--json',
      '--svg',
      file,
    ]);
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    const svg = parseXml(readFileSync(file, 'utf8'));
    const groups = findAll(svg, (e) => e.attrs.class === 'quant');
    expect(groups.map((g) => g.attrs['data-weights'])).toEqual(['q8', 'q4']);
    for (const [i, row] of json.rows.entries())
      expect(allText(groups[i]!)).toContain(`top-1 agreement ${(100 * row.top1Agreement).toFixed(1)} %`);
  });
});

describe('tinypipe demo --trace', () => {
  for (const topology of ['star', 'chain'] as const)
    it(`${topology}: a Chrome trace with one track per board, its spans apart, its compute as its STATS`, async () => {
      const file = join(tmp, `trace-${topology}.json`);
      const r = await runCapture([
        'demo',
        '--boards',
        '3',
        '--streams',
        '2',
        '--steps',
        '12',
        '--seed',
        '3',
        '--topology',
        topology,
        '--json',
        '--trace',
        file,
      ]);
      expect(r.code, r.stderr).toBe(0);
      const summary = JSON.parse(r.stdout);
      const trace = parseChromeTrace(JSON.parse(readFileSync(file, 'utf8')));
      const boardTracks = trace.traceEvents.filter(
        (e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === TRACE_BOARDS_PID,
      );
      expect(boardTracks.map((e) => e.tid)).toEqual([1, 2, 3]);
      expect(boardTracks.map((e) => (e.args as { name: string }).name)).toEqual([
        'board 0 · layers 0–1 + embedding',
        'board 1 · layers 2–3',
        'board 2 · layers 4 + classifier',
      ]);
      const spans = trace.traceEvents.flatMap((e) => (e.ph === 'X' ? [e] : []));
      expect(new Set(spans.filter((e) => e.pid === TRACE_BOARDS_PID).map((e) => e.tid))).toEqual(
        new Set([1, 2, 3]),
      );
      for (const board of summary.perBoard as {
        board: number;
        positions: number;
        computeMsPerPosition: number;
      }[]) {
        const own = spans.filter((e) => e.pid === TRACE_BOARDS_PID && e.tid === board.board + 1);
        expect(own).toHaveLength(board.positions);
        for (let i = 1; i < own.length; i++)
          expect(own[i]!.ts).toBeGreaterThanOrEqual(own[i - 1]!.ts + own[i - 1]!.dur - 0.001);
        const totalMs = own.reduce((a, e) => a + e.dur, 0) / 1000;
        expect(totalMs).toBeGreaterThan(0);
        // placed spans keep the board's own figure unless the host saw the answer sooner (then shorter)
        expect(totalMs).toBeLessThanOrEqual(board.positions * board.computeMsPerPosition * 1.01 + 0.01);
        expect(totalMs).toBeGreaterThan(board.positions * board.computeMsPerPosition * 0.5);
        expect(new Set(own.map((e) => e.args.stream))).toEqual(new Set([0, 1]));
      }
      // per stream: each position's hops and compute in order, inside the round the host measured
      const streamTracks = trace.traceEvents.filter(
        (e) => e.ph === 'M' && e.name === 'thread_name' && e.pid === TRACE_STREAMS_PID,
      );
      expect(streamTracks).toHaveLength(2);
      const round0 = spans.filter((e) => e.pid === TRACE_STREAMS_PID && e.tid === 1 && e.args.pos === 0);
      expect(round0.map((e) => e.name)).toEqual([
        'pos 0',
        'host→board 0',
        'board 0',
        'board 0→board 1',
        'board 1',
        'board 1→board 2',
        'board 2',
        'board 2→host',
      ]);
      expect(trace.otherData.topology).toBe(topology);
      expect(Number(trace.otherData.tokensPerSecond)).toBeCloseTo(summary.tokensPerSecond, 0);
      expect(trace.otherData.predictedTokensPerSecond).toMatch(
        /^[\d.]+ tok\/s \(cost model: real esp32s3-n16r8 boards, a projection\)$/,
      );
    });
});
