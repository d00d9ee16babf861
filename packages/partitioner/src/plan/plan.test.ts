import { MODEL_SHAPES, type ModelShape } from '@tinypipe/core';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { layerWork } from '../cost/cost.js';
import { builtinProfile, parseProfile } from '../profiles/profiles.js';
import { solve } from '../solver/solve.js';
import { describeHolding, formatPlan, formatRange } from './format.js';
import { planModel } from './plan.js';
import { type PlanRequest, problem, type ResolvedRequest } from './request.js';
import { parsePlan } from './schema.js';

const model = (shape: ModelShape, kind: 'q4' | 'q8', seqLen?: number): PlanRequest['model'] => ({
  name: `stories${shape}`,
  source: `synth:${shape}`,
  config: { ...MODEL_SHAPES[shape], ...(seqLen ? { seqLen } : {}) },
  kind,
  groupSize: 32,
});
const boards = (n: number, name = 'esp32s3-n16r8') => Array.from({ length: n }, () => builtinProfile(name));

describe('planModel: the issue’s cases', () => {
  it('stories15M q4 on one N16R8 and on two', () => {
    const one = planModel({ model: model('15M', 'q4'), boards: boards(1), objective: 'latency' });
    expect(one.boards).toHaveLength(1);
    expect(one.boards[0]).toMatchObject({ layers: [0, 6], embedding: true, vocab: [0, 32000] });
    expect(one.predicted.tokensPerSecond).toBeGreaterThan(0);
    expect(one.predicted.label).toMatch(/cost-model prediction/);
    const two = planModel({
      model: model('15M', 'q4'),
      boards: boards(2),
      objective: 'throughput',
      streams: 2,
    });
    expect(two.boards.map((b) => b.layers[1] - b.layers[0]).reduce((a, b) => a + b)).toBe(6);
    expect(two.boards[1]!.vocab).not.toBeNull();
    // two boards with two streams in flight beat one board (the model's own prediction)
    expect(two.predicted.tokensPerSecond).toBeGreaterThan(one.predicted.tokensPerSecond);
    expect(formatPlan(two)).toMatch(/predicted \(cost model, not measured\): \d+\.\d\d tok\/s/);
  });

  it('stories42M q4 on 2× N16R8 (the fp32 KV cache needs seq_len ≤ 256 there); 1024 is refused with the fixes', () => {
    const plan = planModel({ model: model('42M', 'q4', 256), boards: boards(2), objective: 'throughput' });
    expect(plan.boards.map((b) => b.layers)).toEqual([
      [0, plan.boards[0]!.layers[1]],
      [plan.boards[0]!.layers[1], 8],
    ]);
    for (const b of plan.boards) expect(b.imageBytes).toBeLessThanOrEqual(b.partitionBytes);
    const e = planModel.bind(null, { model: model('42M', 'q4'), boards: boards(2) });
    // an int8 KV cache is one change that keeps the context; then a shorter context, or fp16 at 512
    expect(e).toThrow(
      /Smallest fix: use --kv int8 \(also works: shorten seq_len to 256; use --kv fp16 and shorten seq_len to 512\)/,
    );
  });

  it('stories110M q4 on the fewest S3 boards that fit (seq_len 256)', () => {
    let fewest = 0;
    let refused = '';
    for (let n = 1; n <= 8 && !fewest; n++) {
      try {
        const plan = planModel({
          model: model('110M', 'q4', 256),
          boards: boards(n),
          objective: 'throughput',
        });
        fewest = n;
        expect(plan.boards.every((b) => b.imageBytes <= b.partitionBytes)).toBe(true);
      } catch (e) {
        expect((e as { code: string }).code).toBe('PLAN_INFEASIBLE');
        refused = (e as Error).message;
      }
    }
    expect(fewest).toBeGreaterThan(1);
    // one board fewer is refused, and its error points at the boards that work
    expect(refused).toMatch(/add 1 more esp32s3-n16r8/);
  });

  it('stories42M q8 on one N8R2: infeasible, saying what does not fit by how much, and the smallest fix', async () => {
    const req = { model: model('42M', 'q8'), boards: boards(1, 'esp32s3-n8r2') };
    expect(await errorCodeOf(() => planModel(req))).toBe('PLAN_INFEASIBLE');
    expect(() => planModel(req)).toThrow(/image 44\.59 MB > model partition 6\.36 MB \(short by 38\.23 MB\)/);
    expect(() => planModel(req)).toThrow(/Smallest fix: use q4 instead of q8 and /);
  });
});

describe('the figures a plan projects with', () => {
  const req = { model: model('260K', 'q8'), boards: boards(2), objective: 'throughput' as const };

  it('by default each board’s own kernel — the S3 firmware’s plain C one — and datasheet figures, said so', () => {
    const plan = planModel(req);
    expect(plan.kernel).toBe('profile');
    expect(plan.predicted.figures).toBe('datasheet');
    expect(plan.predicted.label).toMatch(/datasheet figures/);
    for (const b of plan.boards)
      expect(b.predicted).toMatchObject({ kernel: 'ansi', macsPerCycle: 0.08, figures: 'datasheet' });
    expect(formatPlan(plan)).toMatch(
      /^figures of esp32s3-n16r8: datasheet \(estimates with their sources; tinypipe calibrate measures them on a board\); kernel ansi \(portable C, the firmware’s\) 0\.08 MAC\/cycle$/m,
    );
  });

  it('--kernel optimized projects a SIMD kernel the firmware does not have: faster, and labelled a what-if', () => {
    const plain = planModel(req);
    const simd = planModel({ ...req, kernel: 'optimized' });
    expect(simd.kernel).toBe('optimized');
    expect(simd.boards[0]!.predicted).toMatchObject({ kernel: 'optimized', macsPerCycle: 5.8 });
    expect(simd.predicted.tokensPerSecond).toBeGreaterThan(plain.predicted.tokensPerSecond);
    expect(formatPlan(simd)).toMatch(
      /kernel optimized \(not the firmware’s \(it has ansi\): a what-if\) 5\.8 MAC\/cycle/,
    );
  });

  it('a profile whose firmware has the SIMD kernel is projected with it', () => {
    const simdBoard = { ...builtinProfile('esp32s3-n16r8'), name: 'with-pie', kernel: 'optimized' as const };
    const plan = planModel({ ...req, boards: [simdBoard, simdBoard] });
    expect(plan.boards[0]!.predicted).toMatchObject({ kernel: 'optimized', macsPerCycle: 5.8 });
    expect(formatPlan(plan)).toMatch(/kernel optimized \(SIMD, the firmware’s\)/);
  });

  it('a plan of an earlier version (one kernel for all, no per-board figures) still reads', () => {
    const old = JSON.parse(JSON.stringify(planModel(req)));
    old.kernel = 'optimized';
    old.predicted.label = 'cost-model prediction (profile figures, not a measurement)';
    delete old.predicted.figures;
    for (const b of old.boards) {
      delete b.predicted.kernel;
      delete b.predicted.macsPerCycle;
      delete b.predicted.figures;
      delete b.profile.kernel;
    }
    const plan = parsePlan(old);
    expect(plan.kernel).toBe('optimized');
    expect(plan.predicted.figures).toBe('datasheet');
    expect(plan.boards[0]!.profile.kernel).toBe('ansi');
  });
});

describe('validation at the boundary', () => {
  const good = planModel({ model: model('260K', 'q8'), boards: boards(2), objective: 'throughput' });

  it('a plan survives JSON and validation unchanged', () => {
    expect(parsePlan(JSON.parse(JSON.stringify(good)))).toEqual(good);
  });

  it('bad plan JSON → PLAN_INVALID naming each bad field by its path', async () => {
    const bad = JSON.parse(JSON.stringify(good));
    bad.boards[1].profile.flashBytes = 'big';
    delete bad.model.kind;
    bad.streams = 0;
    expect(await errorCodeOf(() => parsePlan(bad, 'plan.json'))).toBe('PLAN_INVALID');
    expect(() => parsePlan(bad, 'plan.json')).toThrow(/boards\[1\]\.profile\.flashBytes: /);
    expect(() => parsePlan(bad, 'plan.json')).toThrow(/model\.kind: /);
    expect(() => parsePlan(bad, 'plan.json')).toThrow(/streams: /);
    const gap = JSON.parse(JSON.stringify(good));
    gap.boards[1].layers = [4, 5];
    expect(() => parsePlan(gap)).toThrow(/boards\[1\] breaks the order of layers/);
    expect(await errorCodeOf(() => parsePlan('not a plan'))).toBe('PLAN_INVALID');
  });

  it('unknown board → BOARD_UNKNOWN listing the built-ins; custom profile with missing fields → PROFILE_INVALID', async () => {
    expect(await errorCodeOf(() => builtinProfile('esp32s3-n4r0'))).toBe('BOARD_UNKNOWN');
    expect(() => builtinProfile('esp32s3-n4r0')).toThrow(/esp32s3-n16r8/);
    const { flashBytes: _f, macsPerCycle, ...rest } = builtinProfile('esp32s3-n8r8');
    const custom = { ...rest, name: 'mine', macsPerCycle: { ansi: 0.1 } };
    expect(await errorCodeOf(() => parseProfile(custom, 'mine.json'))).toBe('PROFILE_INVALID');
    expect(() => parseProfile(custom, 'mine.json')).toThrow(/flashBytes: /);
    expect(() => parseProfile(custom, 'mine.json')).toThrow(/macsPerCycle\.optimized: /);
    expect(parseProfile({ ...rest, flashBytes: 4 * 1048576, macsPerCycle })).toMatchObject({
      flashBytes: 4 * 1048576,
    });
    // a custom profile from before kernels were named: the firmware's portable C kernels
    const { kernel: _k, ...older } = builtinProfile('esp32s3-n8r8');
    expect(parseProfile(older).kernel).toBe('ansi');
    expect(() => parseProfile({ ...older, kernel: 'pie' }, 'mine.json')).toThrow(
      /kernel: must be "ansi" or "optimized"/,
    );
    expect(() => parseProfile({ ...older, macsPerCycle: { ansi: { q4: 0.1 }, optimized: 5 } })).toThrow(
      /macsPerCycle\.ansi: /,
    );
  });
});

describe('ranges for people: inclusive, never reading as overlapping', () => {
  it('half-open [start, end) prints inclusive; one item as itself; empty as none', () => {
    expect(formatRange([0, 3])).toBe('0–2');
    expect(formatRange([3, 5])).toBe('3–4');
    expect(formatRange([6, 7])).toBe('6');
    expect(formatRange([6, 6])).toBe('none');
  });

  it('a board holding no layers says "classifier only", never "layers 6–6"', () => {
    expect(describeHolding({ layers: [6, 6], vocab: [16000, 32000] })).toBe(
      'classifier rows 16000–31999 only',
    );
    expect(describeHolding({ layers: [6, 6], vocab: [0, 512] }, 512)).toBe('classifier only');
    expect(describeHolding({ layers: [0, 3], embedding: true, vocab: null })).toBe('layers 0–2 + embedding');
    expect(describeHolding({ layers: [3, 5], vocab: [0, 512] }, 512)).toBe('layers 3–4 + classifier');
  });

  it('formatPlan: adjacent boards do not share a layer number', () => {
    const plan = planModel({
      model: { name: 's', source: 's', config: { ...MODEL_SHAPES['15M'] }, kind: 'q4', groupSize: 32 },
      boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n16r8')],
      objective: 'throughput',
      streams: 1,
    });
    const [a, b] = plan.boards;
    expect(formatPlan(plan)).toContain(`  ${a!.layers[0]}–${a!.layers[1] - 1}  `);
    expect(formatPlan(plan)).toContain(`  ${b!.layers[0]}–${b!.layers[1] - 1}  `);
    expect(formatPlan(plan)).toMatch(/inclusive/);
  });
});

describe('planModel: the stream count', () => {
  // the classifier whole on board 1 (the case these tests were built on; a split one balances the boards)
  const req = (streams: number, kernel?: 'optimized'): ResolvedRequest => ({
    model: model('15M', 'q4'),
    boards: boards(2),
    objective: 'throughput',
    splitClassifier: false,
    streams,
    ...(kernel ? { kernel } : {}),
  });
  /** Predicted tok/s with exactly k streams, straight from the solver (no choice made). */
  const exactly = (r: ResolvedRequest, k: number) => solve(problem({ ...r, streams: k }))?.tokensPerSecond;

  it('more streams fit but are slower (their KV caches push layers onto the busier board): fewer are planned', () => {
    // the case: 15M on 2× N16R8 with the PIE what-if, where the classifier board is the bottleneck
    const r = req(4, 'optimized');
    const plan = planModel(r);
    expect(plan.predicted.streamChoice?.fit).toBe(4); // all four fit in PSRAM…
    expect(plan.streams).toBe(2); // …but two are the fastest
    expect(exactly(r, 3)!).toBeLessThan(exactly(r, 2)!);
    expect(exactly(r, 4)!).toBeLessThan(exactly(r, 2)!);
    expect(plan.predicted.tokensPerSecond).toBeCloseTo(exactly(r, 2)!, 3);
    // each board provisions the KV caches of 2 streams (per stream and layer 2 × 256 × 288 × 4 B), not 4
    for (const b of plan.boards) {
      const perStream = (b.layers[1] - b.layers[0]) * 2 * 256 * 288 * 4;
      expect(b.psramBytes).toBeGreaterThanOrEqual(2 * perStream);
      expect(b.psramBytes).toBeLessThan(3 * perStream + 1_000_000);
    }
    expect(formatPlan(plan)).toMatch(/streams: 4 fit, 2 are fastest \(more are slower\)/);
  });

  it('never offers more streams than the throughput-optimal count, and the fewest among equals', () => {
    for (const kernel of [undefined, 'optimized'] as const)
      for (let asked = 1; asked <= 4; asked++) {
        const r = req(asked, kernel);
        const plan = planModel(r);
        const by = Array.from({ length: asked }, (_, i) => exactly(r, i + 1) ?? 0);
        const best = Math.max(...by);
        expect(plan.streams).toBe(by.indexOf(best) + 1);
        expect(plan.predicted.streamChoice?.tokensPerSecond).toEqual(
          by.map((t) => Math.round(t * 1000) / 1000),
        );
      }
    // plain C kernels, the classifier split (balanced boards): 2 streams beat 1, more add nothing (both
    // boards are busy all the time)
    const split = { ...req(4), splitClassifier: true };
    const plain = planModel(split);
    expect(plain.streams).toBe(2);
    expect(exactly(split, 4)).toBe(exactly(split, 2));
    expect(exactly(split, 3)).toBe(exactly(split, 2));
    expect(formatPlan(plain)).toMatch(/streams: 4 fit, 2 are fastest \(more add nothing\)/);
  });

  it('asked for more than fit: the best of those that fit, and says how many fit', () => {
    const plan = planModel({ model: model('42M', 'q4', 256), boards: boards(2), streams: 8 });
    const choice = plan.predicted.streamChoice!;
    expect(choice.fit).toBeLessThan(8);
    expect(choice.tokensPerSecond).toHaveLength(choice.fit + 1);
    expect(choice.tokensPerSecond.at(-1)).toBeNull();
    expect(plan.streams).toBeLessThanOrEqual(choice.fit);
    expect(formatPlan(plan)).toContain(`${choice.fit} of 8 fit`);
    expect(() => planModel({ ...req(1), streams: 0 })).toThrow(/streams must be ≥ 1/);
  });

  it('states the context of the prediction; the KV term is in a stage’s time (checked by hand)', () => {
    const plan = planModel(req(2, 'optimized'));
    expect(plan.predicted.context).toBe(256);
    expect(formatPlan(plan)).toMatch(
      /at context 256: attention and KV-cache reads at the average position 128/,
    );
    // board 0 holds the 6 layers and the embedding; memory-bound at 5.8 MAC/cycle: flash at 26 MB/s, then
    // the KV cache at 68 MB/s: 6 layers × 2 × 288 × 4 B × (128 reads + 1 write) = 1,783,296 B
    const b0 = plan.boards[0]!;
    expect(b0).toMatchObject({ layers: [0, 6], embedding: true, vocab: null });
    const flash = layerWork(model('15M', 'q4'), 6, true).bytes;
    const handUs = Math.ceil(flash / 26 + 1_783_296 / 68);
    expect(b0.predicted.layersMs).toBe(Math.round(handUs) / 1000);
    expect(handUs - Math.ceil(flash / 26)).toBeGreaterThan(26_000); // the KV term: 26 ms a token
  });

  it('plans written before the KV term and the stream choice still read, and print without those lines', () => {
    const plan = planModel(req(3, 'optimized'));
    const old = JSON.parse(JSON.stringify(plan));
    delete old.predicted.context;
    delete old.predicted.streamChoice;
    const read = parsePlan(old, 'old.json');
    expect(read.predicted.streamChoice).toBeUndefined();
    expect(formatPlan(read)).not.toMatch(/at context|streams: /);
    expect(formatPlan(parsePlan(JSON.parse(JSON.stringify(plan))))).toMatch(/at context 256/);
  });
});
