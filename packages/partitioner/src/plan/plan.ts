/**
 * Plans: "this model on these boards" → a versioned JSON a person can read and `tinypipe build` can
 * turn into per-board images and partition tables. Infeasible requests get one error saying what does
 * not fit where, by how much, and the smallest change that would fit.
 */
import { TinypipeError } from '@tinypipe/protocol';
import { partitionBytes } from '../cost/cost.js';
import { figuresOf, macsPerCycle } from '../profiles/profiles.js';
import { type Solution, solve } from '../solver/solve.js';
import { type Candidate, candidates, explainChoice } from './choice.js';
import { explain, fixes } from './infeasible.js';
import { type PlanRequest, problem, type ResolvedRequest } from './request.js';
import { PLAN_FORMAT, PLAN_VERSION, type Plan } from './schema.js';
import { standaloneRequest, WHOLE_CLASSIFIER_WHY } from './standalone.js';

const ms = (us: number) => Math.round(us) / 1000;

const LABELS = {
  datasheet: 'cost-model prediction from datasheet figures (not a measurement)',
  measured:
    'cost-model prediction from figures measured on the boards by tinypipe calibrate (not a measurement of this plan)',
  mixed: 'cost-model prediction from measured and datasheet figures (not a measurement)',
} as const;

/** How the stream count was chosen (see {@link planModel}). */
export interface StreamChoice {
  /** The most streams asked for (`--streams`). */
  asked: number;
  /** The most of them that fit the boards' PSRAM. */
  fit: number;
  /** Predicted tok/s with 1, 2, … streams up to `asked` or the first that does not fit (null), rounded as in the plan. */
  tokensPerSecond: (number | null)[];
}

const tokS = (x: number) => Math.round(x * 1000) / 1000;

function toPlan(
  req: ResolvedRequest,
  s: Solution,
  streams: number,
  choice: StreamChoice,
  why: { kv: string; embedding: string },
): Plan {
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
    streams,
    kv: req.kv ?? 'fp32',
    embedding: req.embedding ?? 'board',
    ...(req.standalone ? { standalone: true } : {}),
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
      tokensPerSecond: tokS(s.tokensPerSecond),
      context: c.seqLen,
      why,
      streamChoice: choice,
    },
  };
}

/** The fastest stream count of at most `asked` for `req` (undefined: not even one stream fits). */
function bestStreams(
  req: ResolvedRequest,
  asked: number,
): { s: Solution; k: number; choice: StreamChoice } | undefined {
  const tokensPerSecond: (number | null)[] = [];
  let best: { s: Solution; k: number } | undefined;
  let fit = 0;
  for (let k = 1; k <= asked; k++) {
    // a stream more needs more PSRAM on every board: once k does not fit, no larger count does
    const s = solve(problem({ ...req, streams: k }));
    tokensPerSecond.push(s ? tokS(s.tokensPerSecond) : null);
    if (!s) break;
    fit = k;
    if (!best || s.tokensPerSecond > best.s.tokensPerSecond) best = { s, k };
  }
  return best && { ...best, choice: { asked, fit, tokensPerSecond } };
}

/**
 * Plans `req` with at most `req.streams` streams: of the counts that fit, the one with the highest
 * predicted throughput (the fewest among equals) — more streams need more PSRAM, which can push layers
 * onto a slower board, so more is not always faster. The KV format and the embedding's place are the
 * asked ones, or with `auto` the most exact format that fits, the embedding on board 0 when that fits
 * (`predicted.why` says which and why). With `standalone` the classifier stays whole on the last board and
 * the embedding on board 0 (a ring samples on its last board and has no host). PLAN_INFEASIBLE (what does
 * not fit, and the smallest fix; for a ring, whether a split classifier would have fitted) when not even one
 * stream fits.
 */
export function planModel(request: PlanRequest): Plan {
  const req = request.standalone ? standaloneRequest(request) : request;
  const asked = req.streams ?? 1;
  if (!Number.isInteger(asked) || asked < 1)
    throw new TinypipeError('INVALID_ARGUMENT', `streams must be ≥ 1, got ${asked}`);
  const failed: Candidate[] = [];
  for (const candidate of candidates(req)) {
    const r: ResolvedRequest = { ...req, ...candidate };
    const best = bestStreams(r, asked);
    if (best)
      return toPlan(
        { ...r, streams: best.k },
        best.s,
        best.k,
        best.choice,
        req.standalone
          ? ringWhy(explainChoice(req, candidate, failed))
          : explainChoice(req, candidate, failed),
      );
    failed.push(candidate);
  }
  // the last tried is the most compact: what it lacks, and what would fix it
  const one: ResolvedRequest = { ...req, ...failed[failed.length - 1]!, streams: 1 };
  const f = fixes(one);
  throw new TinypipeError(
    'PLAN_INFEASIBLE',
    `${req.model.name} does not fit${req.standalone ? asRing(req) : ''}: ${explain(one)}. ${
      f.length
        ? `Smallest fix: ${f[0]}${f.length > 1 ? ` (also works: ${f.slice(1).join('; ')})` : ''}.`
        : 'No single change makes it fit.'
    }`,
    { details: { fixes: f } },
  );
}

/** A ring's embedding: board 0 embeds the token the last board sends back (no host). */
function ringWhy(why: { kv: string; embedding: string }): { kv: string; embedding: string } {
  return {
    ...why,
    embedding: 'on board 0 (a standalone ring): it embeds each token the last board sends back',
  };
}

/**
 * What a ring's refusal adds: why the classifier stays whole, and what would have fitted these boards
 * outside a ring (the classifier split, the embedding on the host), which a ring cannot do.
 */
function asRing(req: PlanRequest): string {
  const fits = (change: Partial<ResolvedRequest>) =>
    candidates({ ...req, embedding: 'board' }).some(
      (c) => solve(problem({ ...req, ...c, streams: 1, ...change })) !== undefined,
    );
  const outside = fits({ splitClassifier: true })
    ? 'the classifier split over boards'
    : fits({ embedding: 'host' }) || fits({ embedding: 'host', splitClassifier: true })
      ? 'the embedding on the host'
      : '';
  return ` as a standalone ring (the whole classifier on the last board: ${WHOLE_CLASSIFIER_WHY}; the embedding on board 0)${
    outside ? `; with ${outside} it would fit, but not as a ring` : ''
  }`;
}
