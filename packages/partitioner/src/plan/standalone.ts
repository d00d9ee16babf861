/**
 * Plans for a standalone ring (docs/protocol.md §4.5): no host after flashing. Board 0 embeds the tokens
 * (and tokenizes), the last board holds the whole classifier and samples, and its TOKEN goes back to board 0.
 * So a ring plan keeps the classifier whole on the last board and the embedding on board 0.
 */
import { TinypipeError } from '@tinypipe/protocol';
import type { PlanRequest } from './request.js';
import type { Plan } from './schema.js';

/** Why a ring keeps the classifier whole, for the refusals. */
export const WHOLE_CLASSIFIER_WHY =
  'the last board samples, which needs every logit — a split classifier sends its slices to the host to be combined (docs/protocol.md §5.3), and a ring has no host';

/**
 * `req` as a ring plans it: the classifier whole (`splitClassifier: false`) and the embedding on board 0.
 * Throws INVALID_ARGUMENT when the request asks for the classifier split or the embedding on the host.
 */
export function standaloneRequest(req: PlanRequest): PlanRequest {
  if (req.splitClassifier === true)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `a standalone plan cannot split the classifier: ${WHOLE_CLASSIFIER_WHY}. Leave splitClassifier unset (or false)`,
    );
  if (req.embedding === 'host')
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      'a standalone plan keeps the embedding on board 0: in a ring no host embeds the tokens (drop --embedding host)',
    );
  return { ...req, splitClassifier: false, embedding: 'board' };
}

/**
 * Checks that a plan read from a file can run as a ring: board 0 holds the embedding, the last board the
 * whole classifier, no other board any classifier rows. PLAN_INVALID naming what is wrong otherwise.
 */
export function checkRingPlan(plan: Plan, source = 'plan'): void {
  const V = plan.model.config.vocabSize;
  const last = plan.boards[plan.boards.length - 1]!;
  const problems: string[] = [];
  if (!plan.boards[0]!.embedding)
    problems.push('board 0 does not hold the embedding (a ring has no host to embed)');
  const whole = last.vocab?.[0] === 0 && last.vocab[1] === V;
  if (!whole) problems.push(`the last board does not hold the whole classifier (${WHOLE_CLASSIFIER_WHY})`);
  const sliced = plan.boards.filter((b) => b !== last && b.vocab).map((b) => b.index);
  if (sliced.length) problems.push(`board ${sliced.join(', ')} holds classifier rows`);
  if (problems.length)
    throw new TinypipeError(
      'PLAN_INVALID',
      `${source} cannot run as a standalone ring: ${problems.join('; ')}. Plan it with tinypipe plan --standalone`,
      { details: { problems } },
    );
}
