/**
 * A measured profile: a built-in (or custom) profile whose performance figures are replaced by what a board
 * measured of itself (`calibrateBoard` in @tinypipe/pipeline, `tinypipe calibrate`). Flash MB/s, the kernel's
 * MAC/cycle, the cost of a message and what the cache preload saves come from the board; memory sizes, the
 * mmap window and the line rate between boards stay the base profile's.
 */
import type { BoardCalibration } from './calibration.js';
import { type BoardProfile, type KernelKind, type MeasuredFigures, parseProfile } from './profiles.js';

export interface MeasuredProfileOptions {
  /** When the board measured (ISO 8601). */
  date: string;
  /** The new profile's name. Default `<base>-measured`. */
  name?: string;
}

/** Four significant digits: measurements are not more precise than that. */
const sig = (x: number) => +x.toPrecision(4);

/** The firmware's portable C kernels (kernels.h: ansi, opt) are the profile's `ansi` kind; others are SIMD. */
const kindOf = (kernel: string): KernelKind => (kernel === 'ansi' || kernel === 'opt' ? 'ansi' : 'optimized');

/**
 * `base` with the figures `cal` measured. The MAC/cycle figure is the measured MAC/s over the board's clock
 * (the base's when the board does not know its own), so the cost model gets the measured rate back; the
 * preload is worth what it saved on the first weights, in bytes of flash streaming.
 * @throws TinypipeError PROFILE_INVALID when the result would not be a valid profile (e.g. a measured rate of 0)
 */
export function measuredProfile(
  base: BoardProfile,
  cal: BoardCalibration,
  options: MeasuredProfileOptions,
): BoardProfile {
  const a = cal.answer;
  const clockMhz = a.cpuMhz > 0 ? a.cpuMhz : base.clockMhz;
  const kind = kindOf(cal.kernel);
  const fw = cal.firstWeights;
  const flashMBps = cal.flashMBps ?? base.flashMBps;
  // what the preload took off the first read, as flash bytes at the measured rate (0: no preload hook)
  const preloadBytes =
    a.preload && fw && cal.flashMBps
      ? Math.max(0, Math.min(fw.bytes, Math.round((fw.coldUs - fw.preloadedUs) * cal.flashMBps)))
      : 0;
  const measured: MeasuredFigures = {
    date: options.date,
    board: a.port || 'an unnamed port',
    firmware: `kernel ${cal.kernel} (src/kernels.h) on ${a.cores} core${a.cores > 1 ? 's' : ''}, ${a.cpuMhz ? `${a.cpuMhz} MHz` : 'clock unknown'}`,
    host: a.host,
    base: base.name,
    budgetMs: a.budgetMs,
    flashMBps: cal.flashMBps === undefined ? null : sig(cal.flashMBps),
    readBytes: a.readBytes,
    macsPerSecond: { q4: sig(cal.macsPerSecond.q4), q8: sig(cal.macsPerSecond.q8) },
    firstWeights: fw
      ? {
          bytes: fw.bytes,
          coldUs: sig(fw.coldUs),
          preloadedUs: sig(fw.preloadedUs),
          preloadUs: sig(fw.preloadUs),
        }
      : null,
    roundTripMs: sig(cal.roundTrip.medianMs),
    lineBaud: cal.roundTrip.lineBaud,
  };
  const by = `measured by tinypipe calibrate ${options.date} on ${measured.board}${a.host ? ' (a simulated board: the host’s figures)' : ''}`;
  const profile = {
    ...base,
    name: options.name ?? `${base.name}-measured`,
    clockMhz,
    flashMBps: sig(flashMBps),
    macsPerCycle: {
      ...base.macsPerCycle,
      [kind]: {
        q4: sig(cal.macsPerSecond.q4 / (clockMhz * 1e6)),
        q8: sig(cal.macsPerSecond.q8 / (clockMhz * 1e6)),
      },
    },
    kernel: kind,
    perMessageMs: sig(cal.roundTrip.perMessageMs),
    preloadBytes,
    sources: {
      ...base.sources,
      flashMBps:
        cal.flashMBps === undefined
          ? `not measured (the board served no image): ${base.name}'s figure`
          : `${by}: ${a.readBytes} B of its image read front to back through the mmap`,
      macsPerCycle: `${by}: the ${cal.kernel} kernel (${kind}), q4 and q8, group 32, ÷ ${clockMhz} MHz${kind === 'ansi' ? `; optimized: ${base.name}'s datasheet figure` : ''}`,
      kernel: `${by}: the firmware compiled ${cal.kernel} (${kind})`,
      perMessageMs: `${by}: half the median round trip of ${cal.roundTrip.samples} probes less their ${cal.roundTrip.wireMs.toFixed(3)} ms on the line`,
      preloadBytes: a.preload
        ? `${by}: the first weights read cold vs right after the cache preload, as bytes of flash streaming saved`
        : `${by}: its port has no cache preload (0)`,
    },
    measured,
  };
  return parseProfile(profile, `the measured profile ${profile.name}`);
}
