/**
 * The comparison behind `evaluate`, for several engines at once: each prompt is continued greedily by
 * the first engine, then every engine reads that same text and each requested pair is compared position
 * by position (top-1 agreement, KL, perplexity). One text for every pair, each engine run once over it.
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { LogitsEngine } from '../engine/fp32-engine.js';
import { argmax } from '../sampler/sampler.js';

/** Options of `evaluate` and the comparisons. */
export interface EvaluateOptions {
  /** Positions per prompt, prompt included (capped at seq_len). Default 256. */
  steps?: number;
}

/** How far a candidate is from a reference on one text (see `evaluate`). */
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

/** A comparison between two of the engines given: indexes into the engine list. */
export interface ComparePair {
  reference: number;
  candidate: number;
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

/**
 * The comparison as steps: yields the forward passes done after each position (of `total`) and returns
 * one report per pair. The text of each prompt is `engines[0]`'s greedy continuation.
 */
export function* comparison(
  engines: readonly LogitsEngine[],
  pairs: readonly ComparePair[],
  prompts: readonly (readonly number[])[],
  options: EvaluateOptions,
): Generator<{ done: number; total: number }, EvaluateReport[], undefined> {
  const text0 = engines[0];
  if (!text0) throw new TinypipeError('INVALID_ARGUMENT', 'compare needs at least one engine');
  const { vocabSize, seqLen } = text0.config;
  if (engines.some((e) => e.config.vocabSize !== vocabSize)) {
    throw new TinypipeError('INVALID_ARGUMENT', 'the engines have different vocabularies');
  }
  if (pairs.some((p) => !engines[p.reference] || !engines[p.candidate]))
    throw new TinypipeError('INVALID_ARGUMENT', `a pair names an engine outside [0, ${engines.length})`);
  const steps = Math.min(options.steps ?? 256, seqLen);
  if (prompts.length === 0 || prompts.some((p) => p.length === 0 || p.length > steps)) {
    throw new TinypipeError('INVALID_ARGUMENT', `each prompt needs 1 to ${steps} tokens`);
  }
  const logp = engines.map(() => new Float64Array(vocabSize));
  const top = new Int32Array(engines.length);
  // per prompt: steps - 1 greedy passes, then steps - 1 positions through every engine
  const total = prompts.length * (1 + engines.length) * (steps - 1);
  let done = 0;
  let positions = 0;
  const sums = pairs.map(() => ({ agree: 0, kl: 0, nllRef: 0, nllCand: 0 }));
  for (const prompt of prompts) {
    // the text: the prompt, continued greedily by the first engine
    const text = [...prompt];
    for (let pos = 0; pos < steps - 1; pos++) {
      const logits = text0.forward(text[pos]!, pos);
      if (pos + 1 >= text.length) text.push(argmax(logits));
      yield { done: ++done, total };
    }
    for (let pos = 0; pos < text.length - 1; pos++) {
      for (const [i, e] of engines.entries()) {
        const logits = e.forward(text[pos]!, pos);
        top[i] = argmax(logits);
        logSoftmax(logits, logp[i]!);
      }
      const next = text[pos + 1]!;
      for (const [k, { reference, candidate }] of pairs.entries()) {
        const lr = logp[reference]!;
        const lc = logp[candidate]!;
        const s = sums[k]!;
        if (top[candidate] === top[reference]) s.agree++;
        let d = 0;
        for (let i = 0; i < vocabSize; i++) d += Math.exp(lr[i]!) * (lr[i]! - lc[i]!);
        s.kl += d;
        s.nllRef -= lr[next]!;
        s.nllCand -= lc[next]!;
      }
      positions++;
      done += engines.length;
      yield { done, total };
    }
  }
  return sums.map((s) => ({
    positions,
    top1Agreement: s.agree / positions,
    meanKL: s.kl / positions,
    perplexity: { reference: Math.exp(s.nllRef / positions), candidate: Math.exp(s.nllCand / positions) },
  }));
}
