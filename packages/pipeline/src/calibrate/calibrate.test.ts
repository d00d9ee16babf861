import type { Calibration, Message } from '@tinypipe/protocol';
import { TinypipeError, wireMicros } from '@tinypipe/protocol';
import { EXAMPLE_CALIBRATION } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { fakeBoard } from '../testing/fake-board.test-helper.js';
import { calibrateBoard } from './calibrate.js';

const measured: Calibration = { ...EXAMPLE_CALIBRATION, budgetMs: 100 };

/** A board that answers each CALIBRATE request with `reply(budgetMs)` (nothing: it stays silent). */
function calibratingBoard(reply: (budgetMs: number) => Message | undefined) {
  const requests: number[] = [];
  const link = fakeBoard({}, (m) => {
    if (m.kind !== 'calibrate-request') throw new Error(`unexpected ${m.kind}`);
    requests.push(m.budgetMs);
    const answer = reply(m.budgetMs);
    return answer ? [answer] : [];
  });
  return Object.assign(link, { requests });
}

const probeOf = (c: Calibration): Calibration => ({
  ...c,
  budgetMs: 0,
  readBytes: 0,
  readUs: 0,
  readSum: 0,
  q4Reps: 0,
  q4Us: 0,
  q8Reps: 0,
  q8Us: 0,
  coldReps: 0,
  coldUs: 0,
  preloadedReps: 0,
  preloadedUs: 0,
  preloadUs: 0,
});

describe('calibrateBoard', () => {
  it('times probes, then asks for the measurement, and derives the figures from the answer', async () => {
    const board = calibratingBoard((budget) =>
      budget === 0 ? { kind: 'calibration', ...probeOf(measured) } : { kind: 'calibration', ...measured },
    );
    const events: string[] = [];
    const r = await calibrateBoard(board, {
      budgetMs: 100,
      roundTrips: 3,
      onProgress: (e) => events.push(e.phase),
    });
    expect(board.requests).toEqual([0, 0, 0, 100]);
    expect(events).toEqual(['round-trip', 'round-trip', 'round-trip', 'measuring']);
    expect(r.kernel).toBe('opt');
    expect(r.flashMBps).toBe(20); // 8,000,000 B in 400 ms
    expect(r.macsPerSecond).toEqual({ q4: (3000 * 4096) / 0.512, q8: (6000 * 4096) / 0.512 });
    expect(r.firstWeights).toEqual({
      bytes: 32768,
      coldUs: 2000,
      preloadedUs: 200,
      preloadUs: 1500,
      reps: 200,
    });
    expect(r.roundTrip.samples).toBe(3);
    // both frames on a 2 Mbaud line: the 5-byte request and the answer, 72 bytes + the port's 22
    const wire = (wireMicros(5, 2e6) + wireMicros(94, 2e6)) / 1000;
    expect(r.roundTrip.wireMs).toBeCloseTo(wire, 9);
    expect(r.roundTrip.perMessageMs).toBe(Math.max(0, (r.roundTrip.medianMs - wire) / 2));
  });

  it('firmware without CALIBRATE (ERROR 12) → REMOTE_ERROR saying to flash a newer one', async () => {
    const old = calibratingBoard(() => ({
      kind: 'error',
      stream: undefined,
      code: 12,
      text: 'malformed or unexpected message',
    }));
    await expect(calibrateBoard(old, { roundTrips: 1 })).rejects.toThrow(
      /does not know CALIBRATE.*flash a newer one/,
    );
  });

  it('an answer that does not hold together → MESSAGE_MALFORMED naming what is wrong', async () => {
    const liar = calibratingBoard((budget) =>
      budget === 0
        ? { kind: 'calibration', ...probeOf(measured) }
        : { kind: 'calibration', ...measured, readBytes: 9_000_000 },
    );
    const e = await calibrateBoard(liar, { budgetMs: 100, roundTrips: 1 }).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'MESSAGE_MALFORMED')).toBe(true);
    expect((e as Error).message).toMatch(/read more bytes than its image has/);
  });

  it('refuses a budget the board would not apply', async () => {
    const board = calibratingBoard(() => undefined);
    await expect(calibrateBoard(board, { budgetMs: 2001 })).rejects.toThrow(/from 1 to 2000/);
    await expect(calibrateBoard(board, { budgetMs: 0 })).rejects.toThrow(/from 1 to 2000/);
    expect(board.requests).toEqual([]);
  });
});
