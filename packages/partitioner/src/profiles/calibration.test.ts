import type { Calibration } from '@tinypipe/protocol';
import { EXAMPLE_CALIBRATION } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { deriveCalibration } from './calibration.js';

const measured: Calibration = { ...EXAMPLE_CALIBRATION, budgetMs: 100 };

describe('deriveCalibration', () => {
  it('no line rate (a pseudo-terminal): nothing is subtracted, half the median is the message cost', () => {
    const r = deriveCalibration({ ...measured, lineBaud: 0 }, [0.4, 0.2, 0.3]);
    expect(r.roundTrip).toMatchObject({ medianMs: 0.3, minMs: 0.2, wireMs: 0, perMessageMs: 0.15 });
  });

  it('a board without an image has no read or first-weights figures', () => {
    const r = deriveCalibration(
      {
        ...measured,
        image: false,
        imageBytes: 0,
        readBytes: 0,
        readUs: 0,
        firstBytes: 0,
        coldReps: 0,
        preloadedReps: 0,
      },
      [1],
    );
    expect(r.flashMBps).toBeUndefined();
    expect(r.firstWeights).toBeUndefined();
  });
});
