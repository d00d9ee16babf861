/**
 * Calibrating a board over its link (docs/protocol.md §5.1): the board measures itself — sequential flash
 * reads through its mmap, its compiled matmul on q4 and q8 weights, its first weights cold and preloaded —
 * and the host times the message round trip with probes. The result (`BoardCalibration`, derived by the
 * partitioner's `deriveCalibration`) turns the partitioner's datasheet figures into measured ones
 * (`measuredProfile` in @tinypipe/partitioner).
 */

import { type BoardCalibration, deriveCalibration } from '@tinypipe/partitioner';
import type { Link } from '@tinypipe/protocol';
import { type Calibration, decodeMessage, encodeMessage, TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';

/** The board caps each measurement's budget here (firmware TP_CALIB_MAX_BUDGET_MS). */
export const MAX_CALIBRATE_BUDGET_MS = 2000;
/** Measurements a board runs, each up to the budget: read, q4, q8, first weights cold and preloaded. */
const MEASUREMENTS = 5;

export interface CalibrateOptions {
  /** Each measurement's time budget on the board, ms (1–2000). Default 500. */
  budgetMs?: number;
  /** Probes timed for the round trip. Default 20. */
  roundTrips?: number;
  signal?: AbortSignal | undefined;
  /** Told as the calibration goes (for progress output). */
  onProgress?: (event: CalibrateProgress) => void;
  /** A millisecond clock (default `performance.now`). */
  now?: () => number;
}

export type CalibrateProgress =
  | { phase: 'round-trip'; done: number; of: number }
  /** The board measures itself: up to `upToMs` with nothing on the link but heartbeats. */
  | { phase: 'measuring'; upToMs: number };

const u = (max: number) => v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(max));
const u16 = u(0xffff);
const u32 = u(0xffffffff);

/**
 * A CALIBRATE answer that holds together: what it read lies inside its image, every measurement that ran
 * took time, and a measured answer measured something (the firmware and this host agree on §5.1).
 */
export const CalibrationAnswerSchema = v.pipe(
  v.object({
    budgetMs: v.pipe(u16, v.maxValue(MAX_CALIBRATE_BUDGET_MS)),
    board: u16,
    kernel: u(0xff),
    cores: v.pipe(u(0xff), v.minValue(1)),
    image: v.boolean(),
    preload: v.boolean(),
    invalidate: v.boolean(),
    host: v.boolean(),
    cpuMhz: u16,
    lineBaud: u32,
    imageBytes: u32,
    readBytes: u32,
    readUs: u32,
    readSum: u32,
    rows: v.pipe(u16, v.minValue(1)),
    cols: v.pipe(u16, v.minValue(1)),
    q4Reps: u32,
    q4Us: u32,
    q8Reps: u32,
    q8Us: u32,
    firstBytes: u32,
    coldReps: u16,
    coldUs: u32,
    preloadedReps: u16,
    preloadedUs: u32,
    preloadUs: u32,
    port: v.string(),
  }),
  v.check((c) => c.readBytes <= c.imageBytes, 'it read more bytes than its image has'),
  v.check((c) => c.firstBytes <= c.imageBytes, 'its first weights lie outside its image'),
  v.check(
    (c) => c.budgetMs === 0 || (c.q4Reps > 0 && c.q4Us > 0 && c.q8Reps > 0 && c.q8Us > 0),
    'a measured answer without kernel figures',
  ),
  v.check(
    (c) => c.budgetMs === 0 || !c.image || (c.readBytes > 0 && c.readUs > 0),
    'a measured answer from a board with an image, without a read figure',
  ),
);

/**
 * Calibrates the board at the other end of `link` (a handshaken host link): times `roundTrips` probes, then
 * has the board measure itself for up to 5 × `budgetMs`. The link's heartbeat timeout must outlast one
 * measurement (`budgetMs` plus margin): the board answers heartbeats only between measurements.
 * @throws TinypipeError REMOTE_ERROR (the board refused: e.g. firmware without CALIBRATE), MESSAGE_MALFORMED
 *   (an answer that does not hold together), TIMEOUT, ABORTED, or the link's own failure
 */
export async function calibrateBoard(link: Link, options: CalibrateOptions = {}): Promise<BoardCalibration> {
  const budgetMs = options.budgetMs ?? 500;
  const roundTrips = options.roundTrips ?? 20;
  if (!Number.isInteger(budgetMs) || budgetMs < 1 || budgetMs > MAX_CALIBRATE_BUDGET_MS)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `calibrate budget ${budgetMs} ms: give a whole number of ms from 1 to ${MAX_CALIBRATE_BUDGET_MS}`,
    );
  if (!Number.isInteger(roundTrips) || roundTrips < 1)
    throw new TinypipeError('INVALID_ARGUMENT', `round trips ${roundTrips}: give at least 1`);
  const now = options.now ?? (() => performance.now());
  const reader = link.messages.getReader();
  /** The board's next CALIBRATE answer (other messages — a late HASHES, STATS — are skipped). */
  const answer = async (waitMs: number): Promise<Calibration> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new TinypipeError(
              'TIMEOUT',
              `the board did not answer CALIBRATE within ${Math.round(waitMs)} ms`,
            ),
          ),
        waitMs,
      );
    });
    try {
      for (;;) {
        const { value, done } = await Promise.race([reader.read(), late]);
        if (done) throw new TinypipeError('LINK_DOWN', 'the link closed while calibrating');
        const m = decodeMessage(value);
        if (m.kind === 'error')
          throw new TinypipeError(
            'REMOTE_ERROR',
            m.code === 12
              ? `the board does not know CALIBRATE (its firmware predates it: flash a newer one) — it said: ${m.text}`
              : `${m.text} (firmware status ${m.code})`,
            { details: { code: m.code } },
          );
        if (m.kind !== 'calibration') continue;
        const { kind: _, ...fields } = m;
        const checked = v.safeParse(CalibrationAnswerSchema, fields);
        if (!checked.success)
          throw new TinypipeError(
            'MESSAGE_MALFORMED',
            `the board's CALIBRATE answer does not hold together: ${checked.issues.map((i) => i.message).join('; ')}`,
          );
        return checked.output;
      }
    } finally {
      clearTimeout(timer);
    }
  };
  const abortable = () => {
    if (options.signal?.aborted) throw new TinypipeError('ABORTED', 'calibration aborted');
  };
  try {
    const rtts: number[] = [];
    for (let i = 0; i < roundTrips; i++) {
      abortable();
      const t0 = now();
      await link.send(encodeMessage({ kind: 'calibrate-request', budgetMs: 0 }));
      await answer(2000);
      rtts.push(now() - t0);
      options.onProgress?.({ phase: 'round-trip', done: i + 1, of: roundTrips });
    }
    abortable();
    const upToMs = MEASUREMENTS * budgetMs;
    options.onProgress?.({ phase: 'measuring', upToMs });
    await link.send(encodeMessage({ kind: 'calibrate-request', budgetMs }));
    return deriveCalibration(await answer(upToMs + 5000), rtts);
  } finally {
    reader.releaseLock();
  }
}
