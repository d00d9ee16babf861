/** Argument checks shared by every engine (fp32, quantized stage): same codes, same messages. */

import { TinypipeError } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';

/** @throws TinypipeError TOKEN_OUT_OF_RANGE */
export function checkToken(token: number, c: ModelConfig): void {
  if (!Number.isInteger(token) || token < 0 || token >= c.vocabSize) {
    throw new TinypipeError(
      'TOKEN_OUT_OF_RANGE',
      `token ${token} is outside the vocabulary [0, ${c.vocabSize})`,
      {
        details: { token, vocabSize: c.vocabSize },
      },
    );
  }
}

/** @throws TinypipeError POSITION_OUT_OF_RANGE, or INVALID_ARGUMENT when x is not (dim) */
export function checkStep(x: Float32Array, pos: number, c: ModelConfig): void {
  if (!Number.isInteger(pos) || pos < 0 || pos >= c.seqLen) {
    throw new TinypipeError(
      'POSITION_OUT_OF_RANGE',
      `position ${pos} is outside [0, seq_len = ${c.seqLen})`,
      {
        details: { pos, seqLen: c.seqLen },
      },
    );
  }
  if (x.length !== c.dim)
    throw new TinypipeError('INVALID_ARGUMENT', `x has ${x.length} values, dim is ${c.dim}`);
}
