import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { Fp32Engine } from '../engine/fp32-engine.js';
import { QuantEngine } from '../quant/engine.js';
import { TINY_CONFIG, tinyCheckpoint, tinyQuantizedModel } from './index.js';

describe('@tinypipe/core/testing', () => {
  it('tiny models are deterministic and runnable', () => {
    const a = new Fp32Engine(tinyCheckpoint(3)).forward(1, 0).slice();
    const b = new Fp32Engine(tinyCheckpoint(3)).forward(1, 0);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(QuantEngine.fromModel(tinyQuantizedModel('q8')).forward(5, 0).length).toBe(TINY_CONFIG.vocabSize);
  });
  it('errorCodeOf reports codes, undefined on success, and rethrows foreign errors', async () => {
    expect(await errorCodeOf(() => new Fp32Engine(tinyCheckpoint()).forward(999, 0))).toBe(
      'TOKEN_OUT_OF_RANGE',
    );
    expect(await errorCodeOf(() => 1)).toBeUndefined();
    await expect(errorCodeOf(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });
});
