/**
 * A memory board's streams and its classifier-slice answers: each stream's state, the firmware statuses
 * and ERROR answers the board refuses with, LOGITS in slices, and CLASSIFY / HISTOGRAM? / DRAW — a
 * classifier slice's part of sampling (docs/protocol.md §5.3, docs/numerics.md §10b). Used by
 * `memory-board.ts`.
 */

import type { QuantStage, Sampler } from '@tinypipe/core';
import { SliceSampling } from '@tinypipe/core';
import { FROM_TOP, type Message, TinypipeError } from '@tinypipe/protocol';

/** Firmware statuses the board answers ERROR with (packages/firmware/src/tp_status.h). */
export const TP_E_ARG = 12;
export const TP_E_UNSUPPORTED = 13;
export const TP_E_NONFINITE = 17;
/** LOGITS go in slices of this many rows, as the C board sends them (docs/protocol.md §5). */
const LOGITS_ROWS = 128;
export const NO_TOKEN = 0xffffffff;

/** One stream's state on the board: its KV cache (the stage) and what START said. */
export interface StreamState {
  stage: QuantStage;
  hashes: boolean;
  sampler: Sampler | undefined;
  sampleFrom: number;
  /** START's sliced sampling (a classifier slice, docs/numerics.md §10b): its parameters. */
  sliced: { temperature: number; topp: number } | undefined;
  /** The slice's scaled logits at `pos`, kept for the host's rounds. */
  slice: { pos: number; sampling: SliceSampling } | undefined;
}

/** An ERROR answer: a firmware status and what it means. */
export const refusal = (stream: number | undefined, code: number, text: string): Message => ({
  kind: 'error',
  stream,
  code,
  text,
});

/** `logits` (rows `vocabFrom`.. of the vocab) as LOGITS messages of at most `LOGITS_ROWS` rows each. */
export function logitsMessages(
  stream: number,
  pos: number,
  vocabFrom: number,
  logits: Float32Array,
): Message[] {
  const out: Message[] = [];
  for (let at = 0; at < logits.length; at += LOGITS_ROWS)
    out.push({
      kind: 'logits',
      stream,
      pos,
      vocabFrom: vocabFrom + at,
      logits: logits.slice(at, Math.min(at + LOGITS_ROWS, logits.length)),
    });
  return out;
}

/** This slice's scaled logits of `x` (the final activation) at `pos`, kept for the host's rounds. */
export function keepSlice(state: StreamState, pos: number, x: Float32Array): void {
  const vocab = state.stage.vocab!;
  const { temperature, topp } = state.sliced!;
  state.slice = { pos, sampling: new SliceSampling(vocab[0], state.stage.classify(x), temperature, topp) };
}

/**
 * CLASSIFY, HISTOGRAM? and DRAW: a classifier slice's part of sampling (docs/protocol.md §5.3) on a
 * stage whose activations are `dim` floats.
 */
export function answerSliced(
  state: StreamState,
  m: Extract<Message, { kind: 'classify' | 'histogram-request' | 'draw' }>,
  dim: number,
): Message[] {
  const { stream, pos } = m;
  const vocab = state.stage.vocab;
  if (!vocab) return [refusal(stream, TP_E_ARG, 'this board holds no classifier rows')];
  try {
    if (m.kind === 'classify') {
      if (m.x.length !== 0 && m.x.length !== dim)
        return [refusal(stream, TP_E_ARG, 'CLASSIFY: x is not dim floats (or none)')];
      if (!state.sliced) {
        if (m.x.length === 0) return [refusal(stream, TP_E_ARG, 'CLASSIFY without x needs a sliced START')];
        return logitsMessages(stream, pos, vocab[0], state.stage.classify(Float32Array.from(m.x)));
      }
      if (m.x.length > 0) keepSlice(state, pos, Float32Array.from(m.x));
    }
    const slice = state.slice;
    if (!state.sliced || !slice || slice.pos !== pos)
      return [refusal(stream, TP_E_ARG, 'no classified position to sample from: CLASSIFY it first')];
    const s = slice.sampling;
    if (m.kind === 'classify') return [{ kind: 'slice-max', stream, pos, ...s.max() }];
    if (m.kind === 'histogram-request')
      return [
        {
          kind: 'histogram',
          stream,
          pos,
          ...s.histogram(m.max, m.below === FROM_TOP ? undefined : m.below),
        },
      ];
    return [{ kind: 'token', stream, pos, token: s.draw(m.max, m.bucket, m.target) }];
  } catch (e) {
    if (TinypipeError.isInstance(e) && e.code === 'NONFINITE')
      return [
        refusal(stream, TP_E_NONFINITE, `a logit, or logit / temperature, is not finite: ${e.message}`),
      ];
    return [refusal(stream, TP_E_ARG, `this slice cannot answer: ${(e as Error).message}`)];
  }
}
