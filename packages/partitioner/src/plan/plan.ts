/**
 * Plans: "this model on these boards" → a versioned JSON a person can read and `tinypipe build` can
 * turn into per-board images and partition tables. Infeasible requests get one error saying what does
 * not fit where, by how much, and the smallest change that would fit.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { partitionBytes } from '../cost/cost.js';
import { figuresOf, macsPerCycle } from '../profiles/profiles.js';
import { type Solution, solve } from '../solver/solve.js';
import { explain, fixes } from './infeasible.js';
import { type PlanRequest, problem } from './request.js';
import { PLAN_FORMAT, PLAN_VERSION, type Plan } from './schema.js';

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
