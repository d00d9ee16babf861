/**
 * The plan file: its versioned JSON schema (what `tinypipe plan` writes and `tinypipe build` reads) and
 * its validation.
 */
import { TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';
import { KV_FORMATS } from '../cost/kv.js';
import { BoardProfileSchema } from '../profiles/profiles.js';
import { parseWith } from '../validation/issues.js';
import { checkRingPlan } from './standalone.js';

export const PLAN_FORMAT = 'tinypipe-plan';
export const PLAN_VERSION = 1;

const uint = v.pipe(v.number(), v.integer(), v.minValue(0));
const range = v.tuple([uint, uint]);

const ConfigSchema = v.object({
  dim: uint,
  hiddenDim: uint,
  nLayers: uint,
  nHeads: uint,
  nKvHeads: uint,
  vocabSize: uint,
  seqLen: uint,
  sharedClassifier: v.boolean(),
});

export const PlanSchema = v.object({
  format: v.literal(PLAN_FORMAT),
  version: v.literal(PLAN_VERSION),
  model: v.object({
    name: v.string(),
    source: v.string(),
    kind: v.picklist(['q4', 'q8']),
    groupSize: v.pipe(uint, v.minValue(1)),
    config: ConfigSchema,
  }),
  objective: v.picklist(['latency', 'throughput']),
  streams: v.pipe(uint, v.minValue(1)),
  // the KV cache's format (docs/numerics.md §6b) and where the embedding table lives: 'board' (the one
  // board with `embedding: true`) or 'host' (no board: the host embeds); plans of earlier versions have
  // neither, and mean fp32 and the embedding on board 0
  kv: v.optional(v.picklist(KV_FORMATS), 'fp32'),
  embedding: v.optional(v.picklist(['board', 'host']), 'board'),
  // a standalone ring (docs/protocol.md §4.5): the classifier whole on the last board, which samples;
  // absent in other plans (and so outside their build ids)
  standalone: v.optional(v.boolean()),
  // 'profile': each board's own (boards[i].predicted.kernel); plans of earlier versions name one for all
  kernel: v.picklist(['ansi', 'optimized', 'profile']),
  boards: v.pipe(
    v.array(
      v.object({
        index: uint,
        profile: BoardProfileSchema,
        layers: range,
        embedding: v.boolean(),
        vocab: v.nullable(range),
        imageBytes: uint,
        partitionOffset: uint,
        partitionBytes: uint,
        psramBytes: uint,
        predicted: v.object({
          layersMs: v.number(),
          classifierMs: v.number(),
          linkOutMs: v.number(),
          periodMs: v.number(),
          // of layersMs + classifierMs, what the board streams into its cache while it waits (plans of
          // earlier versions have none)
          preloadMs: v.optional(v.number(), 0),
          // the kernel and MAC/cycle its compute was projected with, and whether its profile's figures
          // are datasheet ones or measured on a board (plans of earlier versions have none)
          kernel: v.optional(v.picklist(['ansi', 'optimized'])),
          macsPerCycle: v.optional(v.number()),
          figures: v.optional(v.picklist(['datasheet', 'measured']), 'datasheet'),
        }),
      }),
    ),
    v.minLength(1, 'a plan has at least one board'),
  ),
  predicted: v.object({
    label: v.string(),
    figures: v.optional(v.picklist(['datasheet', 'measured', 'mixed']), 'datasheet'),
    latencyMs: v.number(),
    bottleneckMs: v.number(),
    tokensPerSecond: v.number(),
    // the context the prediction assumes: attention and KV-cache reads at its average position, context / 2
    // (plans of earlier versions have none: they counted no KV-cache traffic)
    context: v.optional(uint),
    // why this KV format and this embedding placement, in words (plans of earlier versions have none)
    why: v.optional(v.object({ kv: v.string(), embedding: v.string() })),
    // how the stream count was chosen: at most `asked`, `fit` of them fit, and the predicted tok/s with
    // 1, 2, … streams up to `asked` or the first count that does not fit (null); `streams` is the
    // fastest of them, the fewest among equals
    // (plans of earlier versions have none)
    streamChoice: v.optional(
      v.object({
        asked: v.pipe(uint, v.minValue(1)),
        fit: v.pipe(uint, v.minValue(1)),
        tokensPerSecond: v.array(v.nullable(v.number())),
      }),
    ),
  }),
});

export type Plan = v.InferOutput<typeof PlanSchema>;

/** Validates a plan (parsed JSON): PLAN_INVALID with every bad field's path. */
export function parsePlan(value: unknown, source = 'plan'): Plan {
  const plan = parseWith(PlanSchema, value, 'PLAN_INVALID', `${source} is not a valid tinypipe plan`);
  let layer = 0;
  for (const [i, b] of plan.boards.entries()) {
    if (b.index !== i || b.layers[0] !== layer || b.layers[1] < b.layers[0])
      throw new TinypipeError(
        'PLAN_INVALID',
        `${source}: boards[${i}] breaks the order of layers (expected to start at ${layer})`,
      );
    layer = b.layers[1];
  }
  if (layer !== plan.model.config.nLayers)
    throw new TinypipeError(
      'PLAN_INVALID',
      `${source}: the boards cover ${layer} of ${plan.model.config.nLayers} layers`,
    );
  const holders = plan.boards.filter((b) => b.embedding).map((b) => b.index);
  if (plan.embedding === 'board' && holders.length !== 1)
    throw new TinypipeError(
      'PLAN_INVALID',
      `${source}: embedding "board" needs exactly one board with embedding: true, this plan has ${holders.length ? `boards ${holders.join(', ')}` : 'none'}: plan it again`,
    );
  if (plan.embedding === 'host' && holders.length)
    throw new TinypipeError(
      'PLAN_INVALID',
      `${source}: embedding "host" means no board holds it, but board ${holders.join(', ')} has embedding: true: plan it again`,
    );
  if (plan.standalone) checkRingPlan(plan, source);
  return plan;
}
