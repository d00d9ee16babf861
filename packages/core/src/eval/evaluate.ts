/**
 * `evaluate`: how far a candidate engine (e.g. the quantized one) is from a reference (the fp32 one) on
 * the same text — top-1 agreement, mean KL divergence and the perplexity of each.
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { LogitsEngine } from '../engine/fp32-engine.js';
import { type ComparePair, comparison, type EvaluateOptions, type EvaluateReport } from './compare.js';

export type { EvaluateOptions, EvaluateReport } from './compare.js';

export interface EvaluateAsyncOptions extends EvaluateOptions {
  /** Checked between positions: aborting stops the evaluation with ABORTED within one forward pass. */
  signal?: AbortSignal | undefined;
  /** Called as positions are done: forward passes so far and in all (every engine counted). */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

/** Yields to the event loop so signals (Ctrl-C) and timers are seen during a long evaluation. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The two-engine comparison: one report. */
function* evaluation(
  reference: LogitsEngine,
  candidate: LogitsEngine,
  prompts: readonly (readonly number[])[],
  options: EvaluateOptions,
): Generator<{ done: number; total: number }, EvaluateReport, undefined> {
  const [report] = yield* comparison(
    [reference, candidate],
    [{ reference: 0, candidate: 1 }],
    prompts,
    options,
  );
  return report!;
}

/**
 * For each prompt (token ids starting with BOS), the reference continues it greedily to `steps`
 * positions; then both engines read that same text (teacher forcing) and are compared position by
 * position on their distribution of the next token.
 */
export function evaluate(
  reference: LogitsEngine,
  candidate: LogitsEngine,
  prompts: readonly (readonly number[])[],
  options: EvaluateOptions = {},
): EvaluateReport {
  const run = evaluation(reference, candidate, prompts, options);
  for (;;) {
    const step = run.next();
    if (step.done) return step.value;
  }
}

/** Runs `run` to its end, yielding to the event loop about every 20 ms; ABORTED when `signal` aborts. */
async function drive<T>(
  run: Generator<{ done: number; total: number }, T, undefined>,
  options: EvaluateAsyncOptions,
): Promise<T> {
  const { signal, onProgress } = options;
  let lastYield = performance.now();
  for (;;) {
    if (signal?.aborted) {
      throw new TinypipeError('ABORTED', 'evaluation was aborted', { cause: signal.reason });
    }
    const step = run.next();
    if (step.done) return step.value;
    if (performance.now() - lastYield > 20) {
      onProgress?.(step.value.done, step.value.total);
      await tick();
      lastYield = performance.now();
    }
  }
}

/**
 * `evaluate` that stays responsive: it yields to the event loop about every 20 ms, reports progress and
 * stops when `signal` aborts.
 *
 * @throws TinypipeError ABORTED when `signal` aborts (checked between forward passes)
 */
export function evaluateAsync(
  reference: LogitsEngine,
  candidate: LogitsEngine,
  prompts: readonly (readonly number[])[],
  options: EvaluateAsyncOptions = {},
): Promise<EvaluateReport> {
  return drive(evaluation(reference, candidate, prompts, options), options);
}

/**
 * Several comparisons on one text: each prompt is continued greedily by `engines[0]`, every engine reads
 * that text once, and each pair (indexes into `engines`) gets the report `evaluate` would give it on that
 * text — e.g. fp32, quantized and quantized with an int8 KV cache, compared both ways (`tinypipe eval --kv`).
 * Responsive like `evaluateAsync`.
 *
 * @throws TinypipeError ABORTED when `signal` aborts
 */
export function evaluateEnginesAsync(
  engines: readonly LogitsEngine[],
  pairs: readonly ComparePair[],
  prompts: readonly (readonly number[])[],
  options: EvaluateAsyncOptions = {},
): Promise<EvaluateReport[]> {
  return drive(comparison(engines, pairs, prompts, options), options);
}
