/** Plans for a standalone ring (issue 21 item 5): the classifier whole on the last board, the embedding on board 0. */
import { MODEL_SHAPES, type ModelShape } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { builtinProfile } from '../profiles/profiles.js';
import { planModel } from './plan.js';
import type { PlanRequest } from './request.js';
import { parsePlan } from './schema.js';

const request = (shape: ModelShape, kind: 'q4' | 'q8', profile: string, n: number): PlanRequest => ({
  model: {
    name: `stories${shape}`,
    source: `synth:${shape}`,
    config: { ...MODEL_SHAPES[shape], seqLen: 256 },
    kind,
    groupSize: 32,
  },
  boards: Array.from({ length: n }, () => builtinProfile(profile)),
});
const failure = (f: () => unknown): { code: string | undefined; message: string; fixes: string[] } => {
  try {
    f();
  } catch (e) {
    const err = e as { message: string; details?: { fixes?: string[] } };
    return {
      code: TinypipeError.isInstance(e) ? e.code : undefined,
      message: err.message,
      fixes: err.details?.fixes ?? [],
    };
  }
  throw new Error('expected an error');
};

describe('planModel({ standalone: true })', () => {
  it('keeps the classifier whole on the last board and the embedding on board 0, and records standalone', () => {
    for (const n of [2, 3]) {
      const plan = planModel({ ...request('15M', 'q4', 'esp32s3-n16r8', n), standalone: true });
      expect(plan.standalone).toBe(true);
      expect(plan.embedding).toBe('board');
      expect(plan.boards[0]!.embedding).toBe(true);
      expect(plan.boards.at(-1)!.vocab).toEqual([0, 32000]);
      expect(plan.boards.slice(0, -1).every((b) => b.vocab === null)).toBe(true);
      expect(plan.predicted.why?.embedding).toMatch(/standalone ring/);
      expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
    }
    // other plans do not carry the field (their JSON, and so their build ids, are unchanged)
    expect('standalone' in planModel(request('15M', 'q4', 'esp32s3-n16r8', 2))).toBe(false);
  });

  it('where the same boards fit the model only with a split classifier, it refuses and says why', () => {
    const req = request('15M', 'q4', 'esp32s3-n8r8', 2);
    const host = planModel(req); // outside a ring: the classifier split over both boards
    expect(host.boards.filter((b) => b.vocab).length).toBeGreaterThan(1);
    const f = failure(() => planModel({ ...req, standalone: true }));
    expect(f.code).toBe('PLAN_INFEASIBLE');
    expect(f.message).toMatch(
      /as a standalone ring \(the whole classifier on the last board: the last board samples/,
    );
    expect(f.message).toMatch(/with the classifier split over boards it would fit, but not as a ring/);
    expect(f.fixes.length).toBeGreaterThan(0);
    // a ring's fixes never move the embedding to the host
    expect(f.fixes.join(' ')).not.toMatch(/embedding host/);
    for (const fix of f.fixes) expect(fix).not.toMatch(/host/);
  });

  it('refuses a split classifier or the embedding on the host when asked for them explicitly', () => {
    const req = request('15M', 'q4', 'esp32s3-n16r8', 2);
    const split = failure(() => planModel({ ...req, standalone: true, splitClassifier: true }));
    expect(split.code).toBe('INVALID_ARGUMENT');
    expect(split.message).toMatch(/cannot split the classifier: the last board samples/);
    const host = failure(() => planModel({ ...req, standalone: true, embedding: 'host' }));
    expect(host.code).toBe('INVALID_ARGUMENT');
    expect(host.message).toMatch(/embedding on board 0/);
  });
});

describe('parsePlan of a standalone plan', () => {
  const plan = planModel({ ...request('15M', 'q4', 'esp32s3-n16r8', 3), standalone: true });
  it('refuses one whose classifier was split or whose embedding moved, naming the problem', () => {
    const split = JSON.parse(JSON.stringify(plan));
    split.boards[1].vocab = [0, 16000];
    split.boards[2].vocab = [16000, 32000];
    const f = failure(() => parsePlan(split, 'ring.json'));
    expect(f.code).toBe('PLAN_INVALID');
    expect(f.message).toMatch(
      /ring\.json cannot run as a standalone ring: the last board does not hold the whole classifier/,
    );
    expect(f.message).toMatch(/board 1 holds classifier rows/);
    expect(f.message).toMatch(/tinypipe plan --standalone/);
    const host = JSON.parse(JSON.stringify(plan));
    host.embedding = 'host';
    host.boards[0].embedding = false;
    expect(failure(() => parsePlan(host)).message).toMatch(/board 0 does not hold the embedding/);
  });
});
