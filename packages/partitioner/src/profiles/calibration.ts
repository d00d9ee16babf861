/**
 * A board's calibration figures (what `calibrateBoard` in @tinypipe/pipeline returns): derived from the
 * board's CALIBRATE answer (docs/protocol.md §5.1) and the round trips the host timed. `measuredProfile`
 * turns them into a measured board profile.
 */
import { type Calibration, KERNEL_NAMES, wireMicros } from '@tinypipe/protocol';

/** What `calibrateBoard` (@tinypipe/pipeline) found: the board's answer and the figures derived from it. */
export interface BoardCalibration {
  /** The board's CALIBRATE answer, as it came. */
  answer: Calibration;
  /** The matmul kernel the firmware compiled (`ansi` or `opt`, firmware src/kernels.h). */
  kernel: string;
  /** Sequential read of its image through the mmap, MB/s (10^6 B/s); undefined without an image. */
  flashMBps: number | undefined;
  /** The compiled matmul's multiply-accumulates per second, q4 and q8 weights, group 32. */
  macsPerSecond: { q4: number; q8: number };
  /** The first weights a forward reads: µs per read, cold and right after the port's preload. */
  firstWeights:
    | { bytes: number; coldUs: number; preloadedUs: number; preloadUs: number; reps: number }
    | undefined;
  /** Probes timed from send to answer on this link. */
  roundTrip: {
    samples: number;
    medianMs: number;
    minMs: number;
    /** The board's line rate (0: none, a pseudo-terminal: nothing is subtracted). */
    lineBaud: number;
    /** Both frames' time on the line at lineBaud. */
    wireMs: number;
    /** What one message costs beyond its bytes on the line: (median − wire) / 2. */
    perMessageMs: number;
  };
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The figures `answer` gives, with the round trip timed by the host (`rtts`, ms). */
export function deriveCalibration(answer: Calibration, rtts: readonly number[]): BoardCalibration {
  const macs = answer.rows * answer.cols;
  const rate = (reps: number, us: number) => (us > 0 ? (reps * macs) / (us / 1e6) : 0);
  const probe = 72 + new TextEncoder().encode(answer.port).length;
  const wireMs =
    answer.lineBaud > 0 ? (wireMicros(5, answer.lineBaud) + wireMicros(probe, answer.lineBaud)) / 1000 : 0;
  const medianMs = rtts.length ? median(rtts) : 0;
  return {
    answer,
    kernel: KERNEL_NAMES[answer.kernel] ?? `kernel ${answer.kernel}`,
    flashMBps: answer.readUs > 0 ? answer.readBytes / answer.readUs : undefined,
    macsPerSecond: { q4: rate(answer.q4Reps, answer.q4Us), q8: rate(answer.q8Reps, answer.q8Us) },
    firstWeights:
      answer.coldReps > 0 && answer.preloadedReps > 0
        ? {
            bytes: answer.firstBytes,
            coldUs: answer.coldUs / answer.coldReps,
            preloadedUs: answer.preloadedUs / answer.preloadedReps,
            preloadUs: answer.preloadUs / answer.preloadedReps,
            reps: answer.coldReps + answer.preloadedReps,
          }
        : undefined,
    roundTrip: {
      samples: rtts.length,
      medianMs,
      minMs: rtts.length ? Math.min(...rtts) : 0,
      lineBaud: answer.lineBaud,
      wireMs,
      perMessageMs: Math.max(0, (medianMs - wireMs) / 2),
    },
  };
}
