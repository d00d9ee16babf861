/**
 * Streaming generation with llama2.c's `generate` loop semantics (see golden/README.md):
 * BOS first (not yielded), the prompt tokens forced, then sampled tokens; stops when BOS is produced or
 * after `steps` positions (capped at seq_len).
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { LogitsEngine } from '../engine/fp32-engine.js';
import type { Sampler } from '../sampler/sampler.js';
import { BOS, PieceDecoder, type Tokenizer } from '../tokenizer/tokenizer.js';

/** A model whose forward pass completes later: a pipeline of boards. */
export interface AsyncLogitsEngine {
  readonly config: LogitsEngine['config'];
  forward(token: number, pos: number): Promise<Float32Array>;
}

export interface GenerateOptions {
  engine: LogitsEngine | AsyncLogitsEngine;
  tokenizer: Tokenizer;
  sampler: Pick<Sampler, 'sample'>;
  /** Prompt text (may be empty). */
  prompt?: string;
  /** Positions to run, the prompt included; capped at the model's seq_len like run.c. */
  steps: number;
  signal?: AbortSignal;
}

export interface GeneratedToken {
  /** The token id (a forced prompt token or a sampled one). */
  token: number;
  /** What run.c prints for it: complete UTF-8 characters only (a split character arrives whole, later). */
  piece: string;
  /** The position whose forward pass produced this token. */
  pos: number;
  /** True while the token is forced from the prompt. */
  prompt: boolean;
}

/** @throws TinypipeError BAD_STEPS unless `steps` is a positive integer */
export function validateSteps(steps: number): void {
  if (!Number.isSafeInteger(steps) || steps <= 0) {
    throw new TinypipeError('BAD_STEPS', `steps must be a positive integer, got ${steps}`, {
      details: { steps },
    });
  }
}

/** Checks the options and encodes the prompt; throws before any model work. */
export function preparePrompt(options: GenerateOptions): { promptTokens: number[]; steps: number } {
  const { engine, tokenizer, steps } = options;
  validateSteps(steps);
  if (tokenizer.vocabSize !== engine.config.vocabSize) {
    throw new TinypipeError(
      'TOKENIZER_VOCAB_MISMATCH',
      `the tokenizer has ${tokenizer.vocabSize} tokens but the model's vocab_size is ${engine.config.vocabSize}`,
    );
  }
  const promptTokens = tokenizer.encode(options.prompt ?? '', { bos: true, eos: false });
  const { seqLen } = engine.config;
  if (promptTokens.length > seqLen) {
    throw new TinypipeError(
      'PROMPT_TOO_LONG',
      `the prompt is ${promptTokens.length} tokens (BOS included) but the model's seq_len is ${seqLen}; shorten it`,
      { details: { promptTokens: promptTokens.length, seqLen } },
    );
  }
  return { promptTokens, steps: Math.min(steps, seqLen) };
}

function aborted(signal: AbortSignal): TinypipeError {
  return new TinypipeError('ABORTED', 'generation was aborted', { cause: signal.reason });
}

/** Yields to the event loop so timers (and AbortSignal.timeout) can fire between tokens. */
const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/**
 * Generates tokens one at a time.
 *
 * @throws TinypipeError BAD_STEPS, PROMPT_TOO_LONG, TOKENIZER_VOCAB_MISMATCH before any work; ABORTED when
 *   `signal` aborts (checked before every position)
 */
export async function* generate(options: GenerateOptions): AsyncGenerator<GeneratedToken, void, undefined> {
  const { engine, tokenizer, sampler, signal } = options;
  const { promptTokens, steps } = preparePrompt(options);
  const decoder = new PieceDecoder();
  let token = promptTokens[0]!;
  let lastYield = performance.now();
  for (let pos = 0; pos < steps; pos++) {
    if (signal?.aborted) throw aborted(signal);
    const logits = await engine.forward(token, pos);
    const forced = pos + 1 < promptTokens.length;
    const next = forced ? promptTokens[pos + 1]! : sampler.sample(logits);
    if (next === BOS) break;
    const piece = decoder.push(tokenizer.decodePiece(token, next));
    token = next;
    yield { token: next, piece, pos, prompt: forced };
    if (performance.now() - lastYield > 20) {
      await tick();
      lastYield = performance.now();
      if (signal?.aborted) throw aborted(signal);
    }
  }
}

export interface GenerateResult {
  promptTokens: number[];
  /** Every token after BOS, prompt tokens included (golden semantics). */
  tokens: number[];
  text: string;
  elapsedMs: number;
  /**
   * Like run.c's "achieved tok/s": tokens after the first, divided by the time since the first token
   * was produced (so model loading and the first forward pass are not counted). 0 with fewer than 2 tokens.
   */
  tokensPerSecond: number;
}

/** Runs `generate` to the end and collects tokens, text and timing. */
export async function generateText(options: GenerateOptions): Promise<GenerateResult> {
  const { promptTokens } = preparePrompt(options);
  const tokens: number[] = [];
  let text = '';
  const start = performance.now();
  let first = 0;
  for await (const t of generate(options)) {
    if (tokens.length === 0) first = performance.now();
    tokens.push(t.token);
    text += t.piece;
  }
  const end = performance.now();
  return {
    promptTokens,
    tokens,
    text,
    elapsedMs: end - start,
    tokensPerSecond: tokens.length > 1 ? ((tokens.length - 1) * 1000) / (end - first) : 0,
  };
}
