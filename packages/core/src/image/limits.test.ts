import { firmwareErrorCode } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { quantize } from '../quant/quantize.js';
import { synthesize } from '../synth/synthesize.js';
import { checkBoardLimits, FIRMWARE_LIMITS } from './limits.js';
import { readImage } from './read.js';
import { buildImage } from './serialize.js';

describe('checkBoardLimits (docs/image-format.md §6a)', () => {
  const config = {
    dim: 16,
    hiddenDim: 32,
    nLayers: 2,
    nHeads: 2,
    nKvHeads: 2,
    vocabSize: 16,
    seqLen: 8,
    sharedClassifier: false,
  };
  const header = readImage(
    buildImage(quantize(synthesize(config, 1), { weights: 'q8' }), {
      layers: [0, 2],
      embedding: true,
      classifier: true,
    }),
  ).header;
  it('passes an image inside the firmware limits, refuses each field past its limit with IMAGE_EXCEEDS_BOARD', () => {
    expect(() => checkBoardLimits(header)).not.toThrow();
    for (const [field, limits] of [
      ['dim', { ...FIRMWARE_LIMITS, maxDim: 8 }],
      ['hidden_dim', { ...FIRMWARE_LIMITS, maxHiddenDim: 16 }],
      ['layers on this board', { ...FIRMWARE_LIMITS, maxStageLayers: 1 }],
      ['seq_len', { ...FIRMWARE_LIMITS, maxSeqLen: 4 }],
      ['classifier rows', { ...FIRMWARE_LIMITS, maxVocabRows: 8 }],
    ] as const) {
      expect(
        codeOf(() => checkBoardLimits(header, limits)),
        field,
      ).toBe('IMAGE_EXCEEDS_BOARD');
    }
  });
  it('the firmware statuses map to their codes (src/tp_status.h)', () => {
    expect(firmwareErrorCode(9)).toBe('IMAGE_TENSOR_CRC');
    expect(firmwareErrorCode(16)).toBe('IMAGE_EXCEEDS_BOARD');
    expect(firmwareErrorCode(17)).toBe('NONFINITE');
    expect(firmwareErrorCode(999)).toBe('REMOTE_ERROR');
  });
});
