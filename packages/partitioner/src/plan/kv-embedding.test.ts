/** The KV format and the embedding's place in plans (issue 20): the choice, its reasons, the schema's rules, the fixes. */
import { MODEL_SHAPES, type ModelShape } from '@tinypipe/core';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { hopMicros } from '../cost/cost.js';
import { builtinProfile } from '../profiles/profiles.js';
import { evaluateSplit } from '../solver/solve.js';
import { formatPlan } from './format.js';
import { planModel } from './plan.js';
import { type PlanRequest, problem } from './request.js';
import { parsePlan } from './schema.js';

const model = (shape: ModelShape, seqLen?: number): PlanRequest['model'] => ({
  name: `stories${shape}`,
  source: `synth:${shape}`,
  config: { ...MODEL_SHAPES[shape], ...(seqLen ? { seqLen } : {}) },
  kind: 'q4',
  groupSize: 32,
});
const boards = (n: number) => Array.from({ length: n }, () => builtinProfile('esp32s3-n16r8'));
const fixesOf = (f: () => unknown): string[] => {
  try {
    f();
  } catch (e) {
    return (e as { details: { fixes: string[] } }).details.fixes;
  }
  throw new Error('expected PLAN_INFEASIBLE');
};

describe('the issue’s capacity targets (cost model)', () => {
  it('stories42M on 2× N16R8: int8 KV at seq_len 1024, one stream, a predicted tok/s; fp16 at 512, not 1024', () => {
    const int8 = planModel({ model: model('42M'), boards: boards(2), kv: 'int8' });
    expect(int8).toMatchObject({ kv: 'int8', streams: 1, predicted: { context: 1024 } });
    expect(int8.predicted.tokensPerSecond).toBeGreaterThan(0);
    // each board's PSRAM holds its layers' int8 caches: 2·(512 + 32) bytes per layer and position
    for (const b of int8.boards)
      expect(b.psramBytes).toBeGreaterThanOrEqual((b.layers[1] - b.layers[0]) * 1024 * 1088);
    // one stream is all that fits at that context, and the plan says so
    const asked3 = planModel({ model: model('42M'), boards: boards(2), kv: 'int8', streams: 3 });
    expect(formatPlan(asked3)).toMatch(
      /^streams: 1 of 3 fit, it is used — predicted by streams: 1: 0\.50 tok\/s, 2: does not fit$/m,
    );
    const fp16 = planModel({ model: model('42M', 512), boards: boards(2), kv: 'fp16' });
    expect(fp16).toMatchObject({ kv: 'fp16', predicted: { context: 512 } });
    expect(() => planModel({ model: model('42M'), boards: boards(2), kv: 'fp16' })).toThrow(
      /PSRAM \(fp16 KV cache for 1 stream\(s\), seq_len 1024\)/,
    );
  });

  it('stories110M on 5× N16R8: int8 KV at 1024 with the embedding on the host (on board 0 it does not fit)', () => {
    const plan = planModel({ model: model('110M'), boards: boards(5), kv: 'int8' });
    expect(plan).toMatchObject({ kv: 'int8', embedding: 'host', predicted: { context: 1024 } });
    expect(plan.boards.every((b) => !b.embedding)).toBe(true);
    expect(plan.boards[0]!.layers[1]).toBeGreaterThan(0);
    // the solver's split beats the obvious one (3 layers on each of four boards, the classifier alone on
    // the fifth): that fits too, but the classifier board is the slowest
    const obvious = evaluateSplit(
      problem({ model: model('110M'), boards: boards(5), kv: 'int8', embedding: 'host' }),
      [3, 3, 3, 3, 0],
      1,
    )!;
    expect(obvious).toBeDefined();
    expect(plan.predicted.tokensPerSecond).toBeGreaterThan(obvious.tokensPerSecond);
    expect(() =>
      planModel({ model: model('110M'), boards: boards(5), kv: 'int8', embedding: 'board' }),
    ).toThrow(/Smallest fix: keep the embedding on the host \(--embedding host\)/);
  });
});

describe('--kv auto and --embedding auto', () => {
  it('kv auto: the most exact format that fits, and says which did not', () => {
    const at = (seqLen: number) => planModel({ model: model('42M', seqLen), boards: boards(2), kv: 'auto' });
    expect(at(256).kv).toBe('fp32');
    expect(at(256).predicted.why?.kv).toMatch(/^fp32 \(--kv auto\): the most exact format, and it fits/);
    expect(at(512).kv).toBe('fp16');
    expect(at(512).predicted.why?.kv).toMatch(/fp16 \(--kv auto\): .* \(fp32 does not\)/);
    expect(at(1024).kv).toBe('int8');
    expect(formatPlan(at(1024))).toMatch(/^KV cache: int8 \(--kv auto\): .*\(fp32 and fp16 do not\)$/m);
  });

  it('embedding auto: board 0 when that fits (the default), else the host, saying what the hop costs', () => {
    const fits = planModel({ model: model('15M'), boards: boards(2) });
    expect(fits.embedding).toBe('board');
    expect(fits.boards.map((b) => b.embedding)).toEqual([true, false]);
    expect(formatPlan(fits)).toMatch(/^embedding: on board 0 \(it fits there\)/m);
    const host = planModel({ model: model('42M'), boards: boards(2), kv: 'int8' });
    expect(host.embedding).toBe('host');
    const extra = hopMicros(5 + 4 * 512, boards(1)[0]!) - hopMicros(9, boards(1)[0]!);
    expect(formatPlan(host)).toContain(
      `embedding: on the host (with it on board 0 the plan does not fit (int8 KV, seq_len 1024)): the host sends board 0 the embedded row, an ACTIVATION of 2048 bytes instead of a TOKEN (+${(extra / 1000).toFixed(1)} ms a token on that hop)`,
    );
    // asked for: kept even where board 0 would do
    expect(planModel({ model: model('15M'), boards: boards(2), embedding: 'host' }).embedding).toBe('host');
  });

  it('the host’s embedding takes its table off board 0 and costs an ACTIVATION instead of a TOKEN on the first hop', () => {
    const req = { model: model('15M'), boards: boards(2), objective: 'latency' as const };
    const on = evaluateSplit(problem({ ...req, embedding: 'board' }), [3, 3], 1)!;
    const off = evaluateSplit(problem({ ...req, embedding: 'host' }), [3, 3], 1)!;
    expect(on.stages[0]!.selection.embedding).toBe(true);
    expect(off.stages[0]!.selection.embedding).toBe(false);
    // stories15M's q4 embedding: 32000 rows of 144 bytes + 9 fp16 scales, and its 2 table entries of 64 bytes
    expect(on.stages[0]!.footprint.imageBytes - off.stages[0]!.footprint.imageBytes).toBe(
      32000 * (144 + 18) + 2 * 64,
    );
    // the S3's plain C kernels are compute-bound: one embedding row read changes no board's time
    expect(off.stages[0]!.layersUs).toBe(on.stages[0]!.layersUs);
    const b0 = req.boards[0]!;
    expect(off.latencyUs - on.latencyUs).toBe(hopMicros(5 + 4 * 288, b0) - hopMicros(9, b0));
  });

  it('over a slow line the host’s row into board 0 is what bounds throughput', () => {
    const slow = { ...builtinProfile('esp32s3-n16r8'), uartBaud: 9600, kernel: 'optimized' as const };
    const req = { model: model('260K'), boards: [slow], objective: 'throughput' as const };
    const host = evaluateSplit(problem({ ...req, embedding: 'host' }), [5], 1)!;
    const rowUs = hopMicros(5 + 4 * 64, slow);
    expect(rowUs).toBeGreaterThan(host.stages[0]!.periodUs);
    expect(host.bottleneckUs).toBe(rowUs);
    // a 9-byte TOKEN is not: the board's own period is
    const board = evaluateSplit(problem({ ...req, embedding: 'board' }), [5], 1)!;
    expect(board.bottleneckUs).toBe(board.stages[0]!.periodUs);
  });

  it('with the embedding on the host, board 0 (which gets the activation) holds a layer', () => {
    const p = problem({ model: model('260K'), boards: boards(2), embedding: 'host' });
    expect(evaluateSplit(p, [0, 5], 2)).toBeUndefined();
    expect(evaluateSplit({ ...p, embedding: 'board' }, [0, 5], 2)).toBeDefined();
    expect(evaluateSplit(p, [1, 4], 2)).toBeDefined();
  });
});

describe('infeasible: the KV format and the embedding among the fixes', () => {
  it('fp32 at 1024 on 2× N16R8: int8 KV is the smallest fix; fp16 combined with a shorter context', async () => {
    const f = () => planModel({ model: model('42M'), boards: boards(2) });
    expect(await errorCodeOf(f)).toBe('PLAN_INFEASIBLE');
    expect(fixesOf(f)).toEqual([
      'use --kv int8',
      'shorten seq_len to 256',
      'use --kv fp16 and shorten seq_len to 512',
    ]);
  });

  it('the embedding on board 0 asked for: moving it to the host comes first (bit-exact), then the KV format', () => {
    const f = () => planModel({ model: model('42M'), boards: boards(2), kv: 'int8', embedding: 'board' });
    expect(fixesOf(f)[0]).toBe('keep the embedding on the host (--embedding host)');
    // a fix never adds to a smaller one that already fits
    for (const fix of fixesOf(f).slice(1)) expect(fix).not.toMatch(/--embedding host/);
  });

  it('auto tried every format and place already: the fixes do not suggest them again', () => {
    const f = () => planModel({ model: model('110M'), boards: boards(3), kv: 'auto' });
    expect(() => f()).toThrow(/needs .* with the embedding on the host and .* \(int8 KV cache/);
    for (const fix of fixesOf(f)) expect(fix).not.toMatch(/--kv|--embedding/);
  });
});

describe('the plan file: kv and embedding', () => {
  const host = planModel({ model: model('260K'), boards: boards(2), kv: 'int8', embedding: 'host' });
  const board = planModel({ model: model('260K'), boards: boards(2) });
  const json = (x: unknown) => JSON.parse(JSON.stringify(x));

  it('round trip; a plan from before them reads as fp32 with the embedding on board 0', () => {
    expect(parsePlan(json(host))).toEqual(host);
    const old = json(board);
    delete old.kv;
    delete old.embedding;
    delete old.predicted.why;
    expect(parsePlan(old)).toMatchObject({ kv: 'fp32', embedding: 'board' });
    expect(formatPlan(parsePlan(old))).not.toMatch(/^KV cache|^embedding/m);
  });

  it('PLAN_INVALID: an unknown format, no or two boards with the embedding for "board", any for "host"', async () => {
    expect(() => parsePlan({ ...json(board), kv: 'int4' }, 'p.json')).toThrow(/kv: /);
    const none = json(board);
    none.boards[0].embedding = false;
    expect(await errorCodeOf(() => parsePlan(none))).toBe('PLAN_INVALID');
    expect(() => parsePlan(none)).toThrow(/exactly one board with embedding: true, this plan has none/);
    const two = json(board);
    two.boards[1].embedding = true;
    expect(() => parsePlan(two)).toThrow(/this plan has boards 0, 1/);
    const held = json(host);
    held.boards[0].embedding = true;
    expect(() => parsePlan(held)).toThrow(/embedding "host" means no board holds it, but board 0/);
  });
});
