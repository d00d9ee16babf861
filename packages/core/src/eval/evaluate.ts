/**
 * `evaluate`: how far a candidate engine (e.g. the quantized one) is from a reference (the fp32 one) on
 * the same text — top-1 agreement, mean KL divergence and the perplexity of each.
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { LogitsEngine } from '../engine/fp32-engine.js';
import { argmax } from '../sampler/sampler.js';

export interface EvaluateOptions {
  /** Positions per prompt, prompt included (capped at seq_len). Default 256. */
  steps?: number;
}

export interface EvaluateAsyncOptions extends EvaluateOptions {
  /** Checked between positions: aborting stops the evaluation with ABORTED within one forward pass. */
  signal?: AbortSignal | undefined;
  /** Called as positions are done: forward passes so far and in all (both engines counted). */
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface EvaluateReport {
  /** Positions compared. */
  positions: number;
  /** Fraction of positions where both engines' most likely next token is the same. */
  top1Agreement: number;
  /** Mean KL(reference ‖ candidate) over positions, in nats. */
  meanKL: number;
  /** exp(mean negative log-likelihood) of the evaluated text under each engine. */
  perplexity: { reference: number; candidate: number };
}

/** log-softmax in binary64 (evaluation only: not part of any bit-exact path). */
function logSoftmax(logits: Float32Array, out: Float64Array): void {
  let max = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i]! - max);
  const lse = max + Math.log(sum);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i]! - lse;
}

/** Yields to the event loop so signals (Ctrl-C) and timers are seen during a long evaluation. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * The evaluation as steps: yields the forward passes done after each one (of `total`), returns the report.
 * `evaluate` runs it straight through; `evaluateAsync` yields to the event loop between steps.
 */
function* evaluation(
  reference: LogitsEngine,
  candidate: LogitsEngine,
  prompts: readonly (readonly number[])[],
  options: EvaluateOptions,
): Generator<{ done: number; total: number }, EvaluateReport, undefined> {
  const { vocabSize, seqLen } = reference.config;
  if (candidate.config.vocabSize !== vocabSize) {
    throw new TinypipeError('INVALID_ARGUMENT', 'the two engines have different vocabularies');
  }
  const steps = Math.min(options.steps ?? 256, seqLen);
  if (prompts.length === 0 || prompts.some((p) => p.length === 0 || p.length > steps)) {
    throw new TinypipeError('INVALID_ARGUMENT', `each prompt needs 1 to ${steps} tokens`);
  }
  const lr = new Float64Array(vocabSize);
  const lc = new Float64Array(vocabSize);
  // per prompt: steps - 1 greedy passes, then steps - 1 positions through both engines
  const total = prompts.length * 3 * (steps - 1);
  let done = 0;
  let positions = 0;
  let agree = 0;
  let kl = 0;
  let nllRef = 0;
  let nllCand = 0;
  for (const prompt of prompts) {
    // the text: the prompt, continued greedily by the reference
    const text = [...prompt];
    for (let pos = 0; pos < steps - 1; pos++) {
      const logits = reference.forward(text[pos]!, pos);
      if (pos + 1 >= text.length) text.push(argmax(logits));
      yield { done: ++done, total };
    }
    for (let pos = 0; pos < text.length - 1; pos++) {
      const r = reference.forward(text[pos]!, pos);
      const rTop = argmax(r);
      logSoftmax(r, lr);
      const c = candidate.forward(text[pos]!, pos);
      if (argmax(c) === rTop) agree++;
      logSoftmax(c, lc);
      let d = 0;
      for (let i = 0; i < vocabSize; i++) d += Math.exp(lr[i]!) * (lr[i]! - lc[i]!);
      kl += d;
      const next = text[pos + 1]!;
      nllRef -= lr[next]!;
      nllCand -= lc[next]!;
      positions++;
      done += 2;
      yield { done, total };
    }
  }
  return {
    positions,
    top1Agreement: agree / positions,
    meanKL: kl / positions,
    perplexity: { reference: Math.exp(nllRef / positions), candidate: Math.exp(nllCand / positions) },
  };
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

/**
 * `evaluate` that stays responsive: it yields to the event loop about every 20 ms, reports progress and
 * stops when `signal` aborts.
 *
 * @throws TinypipeError ABORTED when `signal` aborts (checked between forward passes)
 */
export async function evaluateAsync(
  reference: LogitsEngine,
  candidate: LogitsEngine,
  prompts: readonly (readonly number[])[],
  options: EvaluateAsyncOptions = {},
): Promise<EvaluateReport> {
  const { signal, onProgress } = options;
  const run = evaluation(reference, candidate, prompts, options);
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
