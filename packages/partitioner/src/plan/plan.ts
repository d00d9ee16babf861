/**
 * Plans: "this model on these boards" → a versioned JSON a person can read and `tinypipe build` can
 * turn into per-board images and partition tables. Infeasible requests get one error saying what does
 * not fit where, by how much, and the smallest change that would fit.
 */
import { type QuantKind, TinypipeError } from '@tinypipe/core';
import * as v from 'valibot';
import { footprint, type ModelSpec, partitionBytes } from '../cost/cost.js';
import {
  type BoardProfile,
  BoardProfileSchema,
  BUILTIN_PROFILES,
  figuresOf,
  type KernelKind,
  macsPerCycle,
} from '../profiles/profiles.js';
import { type Problem, type Solution, solve } from '../solver/solve.js';
import { parseWith } from '../validation/issues.js';

export const PLAN_FORMAT = 'tinypipe-plan';
export const PLAN_VERSION = 1;

export interface PlanRequest {
  model: ModelSpec & {
    /** A display name (`stories15M`). */
    name: string;
    /** Where `tinypipe build` gets the weights: a checkpoint path or `synth:15M[:seed]`. */
    source: string;
  };
  boards: readonly BoardProfile[];
  objective?: 'latency' | 'throughput';
  streams?: number;
  /** Project every board with this kernel's figure. Default: the kernel each board's firmware has. */
  kernel?: KernelKind;
  splitClassifier?: boolean;
}

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
  }),
});

export type Plan = v.InferOutput<typeof PlanSchema>;

const ms = (us: number) => Math.round(us) / 1000;

const LABELS = {
  datasheet: 'cost-model prediction from datasheet figures (not a measurement)',
  measured:
    'cost-model prediction from figures measured on the boards by tinypipe calibrate (not a measurement of this plan)',
  mixed: 'cost-model prediction from measured and datasheet figures (not a measurement)',
} as const;

function toPlan(req: PlanRequest, s: Solution): Plan {
  const c = req.model.config;
  const kinds = new Set(req.boards.map(figuresOf));
  const figures = kinds.size > 1 ? 'mixed' : [...kinds][0]!;
  return {
    format: PLAN_FORMAT,
    version: PLAN_VERSION,
    model: {
      name: req.model.name,
      source: req.model.source,
      kind: req.model.kind,
      groupSize: req.model.groupSize,
      config: { ...c },
    },
    objective: req.objective ?? 'throughput',
    streams: req.streams ?? 1,
    kernel: req.kernel ?? 'profile',
    boards: s.stages.map((st, i) => ({
      index: i,
      profile: req.boards[i]!,
      layers: [st.selection.layers[0], st.selection.layers[1]],
      embedding: st.selection.embedding,
      vocab: st.selection.vocab ? [st.selection.vocab[0], st.selection.vocab[1]] : null,
      imageBytes: st.footprint.imageBytes,
      partitionOffset: req.boards[i]!.modelOffset,
      partitionBytes: partitionBytes(req.boards[i]!),
      psramBytes: st.footprint.psramNeeded,
      predicted: {
        layersMs: ms(st.layersUs),
        classifierMs: ms(st.classifierUs),
        linkOutMs: ms(st.linkOutUs),
        periodMs: ms(st.periodUs),
        preloadMs: ms(st.preloadUs),
        kernel: req.kernel ?? req.boards[i]!.kernel,
        macsPerCycle: macsPerCycle(req.boards[i]!, req.model.kind, req.kernel),
        figures: figuresOf(req.boards[i]!),
      },
    })),
    predicted: {
      label: LABELS[figures],
      figures,
      latencyMs: ms(s.latencyUs),
      bottleneckMs: ms(s.bottleneckUs),
      tokensPerSecond: Math.round(s.tokensPerSecond * 1000) / 1000,
    },
  };
}

function problem(req: PlanRequest): Problem {
  return {
    model: req.model,
    boards: req.boards,
    objective: req.objective ?? 'throughput',
    streams: req.streams ?? 1,
    ...(req.kernel ? { kernel: req.kernel } : {}),
    splitClassifier: req.splitClassifier ?? true,
  };
}

const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/** Why nothing fits: the whole model on the boards' totals, and each board's problems with an even split. */
function explain(req: PlanRequest): string {
  const c = req.model.config;
  const B = req.boards.length;
  const whole = footprint(
    req.model,
    { layers: [0, c.nLayers], embedding: true, vocab: [0, c.vocabSize] },
    req.boards[0]!,
    {
      streams: req.streams ?? 1,
    },
  );
  const flash = req.boards.reduce((a, b) => a + partitionBytes(b), 0);
  const psram = req.boards.reduce((a, b) => a + Math.max(0, b.psramBytes - b.psramReserveBytes), 0);
  const lines = [
    `${req.model.name} ${req.model.kind} needs ${mb(whole.imageBytes)} of weights and ${mb(whole.psramNeeded)} of PSRAM (KV cache for ${req.streams ?? 1} stream(s), seq_len ${c.seqLen});`,
    `${B}× board${B > 1 ? 's' : ''} (${req.boards.map((b) => b.name).join(', ')}) offer${B > 1 ? '' : 's'} ${mb(flash)} of model partition and ${mb(psram)} of PSRAM`,
  ];
  if (B === 1) lines.push(`— on ${req.boards[0]!.name}: ${whole.problems.join('; ')}`);
  return lines.join(' ');
}

interface Change {
  what: string[];
  /** How big a change it is: changed dimensions first, then boards added, then seq_len halvings. */
  size: [number, number, number];
}

/**
 * The smallest change that makes the request fit: q4 instead of q8, more boards like the last one (up
 * to five, or one more than there are), the biggest module of the chip, a shorter seq_len — alone
 * first, then combined. Returns the smallest few, smallest first.
 */
function fixes(req: PlanRequest): string[] {
  const c = req.model.config;
  const last = req.boards[req.boards.length - 1]!;
  const biggest = [...Object.values(BUILTIN_PROFILES)]
    .filter((p) => p.chip === last.chip)
    .sort((a, b) => b.flashBytes + b.psramBytes - (a.flashBytes + a.psramBytes))[0]!;
  const kinds: QuantKind[] = req.model.kind === 'q8' ? ['q8', 'q4'] : [req.model.kind];
  const modules = req.boards.every((b) => b.name === biggest.name) ? [false] : [false, true];
  const maxBoards = Math.min(c.nLayers + 1, Math.max(5, req.boards.length + 1));
  const seqLens: number[] = [];
  for (let n = c.seqLen; n >= 32; n >>= 1) seqLens.push(n);
  const found: Change[] = [];
  for (const kind of kinds)
    for (const bigger of modules)
      for (let extra = 0; req.boards.length + extra <= maxBoards; extra++)
        for (const [halvings, seqLen] of seqLens.entries()) {
          const changed =
            (kind !== req.model.kind ? 1 : 0) + (bigger ? 1 : 0) + (extra ? 1 : 0) + (halvings ? 1 : 0);
          if (changed === 0) continue;
          const base = bigger ? req.boards.map(() => biggest) : [...req.boards];
          const boards = [...base, ...Array.from({ length: extra }, () => (bigger ? biggest : last))];
          const r: PlanRequest = { ...req, boards, model: { ...req.model, kind, config: { ...c, seqLen } } };
          if (!solve(problem(r))) continue;
          const what: string[] = [];
          if (kind !== req.model.kind) what.push('use q4 instead of q8');
          if (bigger) what.push(`use ${biggest.name} modules`);
          if (extra) what.push(`add ${extra} more ${bigger ? biggest.name : last.name}`);
          if (halvings) what.push(`shorten seq_len to ${seqLen}`);
          found.push({ what, size: [changed, extra, halvings] });
          break; // a longer seq_len is a smaller change: stop halving
        }
  found.sort((x, y) => x.size[0] - y.size[0] || x.size[1] - y.size[1] || x.size[2] - y.size[2]);
  return found.slice(0, 3).map((f) => f.what.join(' and '));
}

/** Plans `req`; PLAN_INFEASIBLE (what does not fit, and the smallest fix) when nothing fits. */
export function planModel(req: PlanRequest): Plan {
  const s = solve(problem(req));
  if (s) return toPlan(req, s);
  const f = fixes(req);
  throw new TinypipeError(
    'PLAN_INFEASIBLE',
    `${req.model.name} does not fit: ${explain(req)}. ${
      f.length
        ? `Smallest fix: ${f[0]}${f.length > 1 ? ` (also works: ${f.slice(1).join('; ')})` : ''}.`
        : 'No single change makes it fit.'
    }`,
    { details: { fixes: f } },
  );
}

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
  return plan;
}

/**
 * A half-open range `[start, end)` as people read it, inclusive: "0–2", "3" for one, "none" when empty
 * (plans, manifests and images store half-open ranges; "0–3 / 3–5" would read as overlapping).
 */
export function formatRange(range: readonly [number, number]): string {
  const [start, end] = range;
  if (end <= start) return 'none';
  return end - start === 1 ? `${start}` : `${start}–${end - 1}`;
}

/**
 * What a board holds, in words: "layers 0–2 + embedding + classifier rows 0–15999", "layers 3–5 +
 * classifier" (all its rows, when `vocabSize` says so), "classifier only".
 */
export function describeHolding(
  b: {
    layers: readonly [number, number];
    embedding?: boolean | undefined;
    vocab?: readonly [number, number] | null | undefined;
  },
  vocabSize?: number,
): string {
  const parts = b.layers[1] > b.layers[0] ? [`layers ${formatRange(b.layers)}`] : [];
  if (b.embedding) parts.push('embedding');
  if (b.vocab) {
    const whole = b.vocab[0] === 0 && b.vocab[1] === vocabSize;
    const what = whole ? 'classifier' : `classifier rows ${formatRange(b.vocab)}`;
    parts.push(parts.length ? what : `${what} only`);
  }
  return parts.length ? parts.join(' + ') : 'nothing';
}

/** A table for people: one line per board, then the predicted figures (labelled as predictions). */
export function formatPlan(plan: Plan): string {
  const rows = plan.boards.map((b) => {
    const vocab = b.vocab ? formatRange(b.vocab) : '-';
    return [
      `${b.index}`,
      b.profile.name,
      formatRange(b.layers), // 'none' for a board with the embedding or classifier rows only
      b.embedding ? 'yes' : '-',
      vocab,
      `${mb(b.imageBytes)} / ${mb(b.partitionBytes)}`,
      `${mb(b.psramBytes)}`,
      `${b.predicted.periodMs.toFixed(1)} ms`,
    ];
  });
  const head = [
    '#',
    'board',
    'layers',
    'embed',
    'classifier rows',
    'image / partition',
    'PSRAM',
    'busy/token',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const p = plan.predicted;
  const seen = new Set<string>();
  const figures = plan.boards.flatMap((b) => {
    if (seen.has(b.profile.name)) return [];
    seen.add(b.profile.name);
    return [`figures of ${b.profile.name}: ${figuresLine(b.profile, b.predicted)}`];
  });
  return [
    `${plan.model.name} ${plan.model.kind} (group ${plan.model.groupSize}), ${plan.boards.length} board(s), objective ${plan.objective}, ${plan.streams} stream(s)`,
    'layers and classifier rows are inclusive (0–2 is layers 0, 1 and 2)',
    line(head),
    ...rows.map(line),
    `predicted (cost model, not measured): ${p.tokensPerSecond.toFixed(2)} tok/s, latency ${p.latencyMs.toFixed(1)} ms/token, slowest board ${p.bottleneckMs.toFixed(1)} ms`,
    ...figures,
  ].join('\n');
}

/** Where a board's figures come from and which kernel it was projected with, in one line. */
export function figuresLine(
  profile: BoardProfile,
  predicted: { kernel?: KernelKind | undefined; macsPerCycle?: number | undefined },
): string {
  const m = profile.measured;
  const source = m
    ? `measured by tinypipe calibrate ${m.date.slice(0, 10)} on ${m.board}${m.host ? ' — a simulated board: the host’s figures, not a board’s' : ''}`
    : 'datasheet (estimates with their sources; tinypipe calibrate measures them on a board)';
  const kernel = predicted.kernel ?? profile.kernel;
  const what =
    kernel === profile.kernel
      ? `${kernel === 'ansi' ? 'portable C' : 'SIMD'}, the firmware’s${m ? `: ${m.firmware}` : ''}`
      : `not the firmware’s (it has ${profile.kernel}): a what-if`;
  const rate =
    predicted.macsPerCycle !== undefined ? ` ${+predicted.macsPerCycle.toPrecision(3)} MAC/cycle` : '';
  return `${source}; kernel ${kernel} (${what})${rate}`;
}
