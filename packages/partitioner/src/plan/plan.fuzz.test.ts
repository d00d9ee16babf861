/**
 * Property-based fuzzing of the readers of untrusted JSON (issue 17, item 6): `parsePlan` (a plan file
 * `tinypipe build --plan` reads) and `parseProfile` (a custom board profile). Arbitrary JSON, and valid
 * documents with one value replaced or one key deleted anywhere in the tree. Replay a failure with the
 * seed fast-check prints: `FC_SEED=<seed> npx vitest run src/plan`.
 */
import { MODEL_SHAPES } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
// through the package's entry: where each reader lives inside the package may move
import { BUILTIN_PROFILES, builtinProfile, type Plan, parsePlan, parseProfile, planModel } from '../index.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The value `f` returns, or the code of the TinypipeError it threw (anything else fails the property). */
function valueOrCode<T>(f: () => T): T | { code: string } {
  try {
    return f();
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    expect(e.message.length).toBeGreaterThan(0);
    return { code: e.code };
  }
}

/** Every path in a JSON tree (the root included). */
function paths(j: Json, at: (string | number)[] = []): (string | number)[][] {
  const out = [at];
  if (Array.isArray(j)) for (const [i, x] of j.entries()) out.push(...paths(x, [...at, i]));
  else if (j !== null && typeof j === 'object')
    for (const [k, x] of Object.entries(j)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A copy of `j` with the value at `path` replaced by `value`, or deleted when `value` is undefined. */
function edit(j: Json, path: readonly (string | number)[], value: Json | undefined): Json | undefined {
  if (path.length === 0) return value;
  const copy = structuredClone(j) as Record<string | number, Json>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<string | number, Json>;
  const last = path[path.length - 1]!;
  if (value !== undefined) parent[last] = value;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

const replacement = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
  fc.constantFrom<Json | undefined>(
    undefined,
    -1,
    0,
    1e308,
    -0,
    0.5,
    2 ** 31,
    '',
    'esp32s3',
    [],
    {},
    null,
    true,
  ),
);

/** Valid plans of a few shapes, board counts, objectives, KV formats and embedding places. */
const PLACES = [
  ['fp32', 'board'],
  ['int8', 'host'],
] as const;
const PLANS: Plan[] = (['260K', '15M'] as const).flatMap((shape) =>
  [1, 2, 3].flatMap((n) =>
    (['latency', 'throughput'] as const).flatMap((objective) =>
      PLACES.map(([kv, embedding]) =>
        planModel({
          model: {
            name: `stories${shape}`,
            source: `synth:${shape}`,
            config: MODEL_SHAPES[shape],
            kind: 'q4',
            groupSize: 32,
          },
          boards: Array.from({ length: n }, () => builtinProfile('esp32s3-n16r8')),
          objective,
          kv,
          embedding,
        }),
      ),
    ),
  ),
);
const PROFILES = Object.keys(BUILTIN_PROFILES).map((name) => builtinProfile(name));
const asJson = (x: unknown) => JSON.parse(JSON.stringify(x)) as Json;

describe('plan and profile readers (fuzz)', () => {
  it('arbitrary JSON: a plan or PLAN_INVALID, a profile or PROFILE_INVALID', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (j) => {
        const plan = valueOrCode(() => parsePlan(j));
        if ('code' in plan) expect(plan.code).toBe('PLAN_INVALID');
        const profile = valueOrCode(() => parseProfile(j));
        if ('code' in profile) expect(profile.code).toBe('PROFILE_INVALID');
      }),
      runs(2000),
    );
  });

  it('round trip: a plan and a profile survive JSON', () => {
    for (const plan of PLANS) expect(parsePlan(asJson(plan))).toEqual(asJson(plan));
    for (const profile of PROFILES) expect(parseProfile(asJson(profile))).toEqual(asJson(profile));
  });

  it('a valid plan with one value replaced or deleted anywhere: a plan that survives JSON, or PLAN_INVALID', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PLANS), fc.nat(), replacement, (plan, which, value) => {
        const j = asJson(plan);
        const all = paths(j);
        const mutated = edit(j, all[which % all.length]!, value);
        const r = valueOrCode(() => parsePlan(mutated));
        if ('code' in r) expect(r.code).toBe('PLAN_INVALID');
        else {
          // what parses is a plan: its boards cover the layers in order, and it reads again the same
          // (== rather than toBe: JSON.parse('-0') is -0, which is 0 here)
          let layer = 0;
          for (const [i, b] of r.boards.entries()) {
            expect(b.index === i && b.layers[0] === layer, `boards[${i}]`).toBe(true);
            layer = b.layers[1];
          }
          expect(layer === r.model.config.nLayers).toBe(true);
          // the embedding on exactly one board, or on none when the host holds it
          const holders = r.boards.filter((b) => b.embedding).length;
          expect(holders).toBe(r.embedding === 'host' ? 0 : 1);
          expect(parsePlan(asJson(r))).toEqual(asJson(r));
        }
      }),
      runs(3000),
    );
  });

  it('a valid profile with one value replaced or deleted anywhere: a profile, or PROFILE_INVALID', () => {
    fc.assert(
      fc.property(fc.constantFrom(...PROFILES), fc.nat(), replacement, (profile, which, value) => {
        const j = asJson(profile);
        const all = paths(j);
        const r = valueOrCode(() => parseProfile(edit(j, all[which % all.length]!, value)));
        if ('code' in r) expect(r.code).toBe('PROFILE_INVALID');
        else expect(parseProfile(asJson(r))).toEqual(asJson(r));
      }),
      runs(3000),
    );
  });
});
