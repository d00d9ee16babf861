import { resolve } from 'node:path';
import { writeFileAtomic } from '@tinypipe/core/node';
import { type BoardCalibration, type BoardProfile, measuredProfile } from '@tinypipe/partitioner';
import { calibrateBoard, MAX_CALIBRATE_BUDGET_MS } from '@tinypipe/pipeline';
import { TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { uintFlag } from '../io/options.js';
import { resolveProfile } from '../io/profiles.js';

interface CalibrateFlags {
  port: string;
  baud: number;
  budgetMs: number;
  roundTrips: number;
  profile: string;
  name?: string;
  out?: string;
  json?: boolean;
}

/** 4.56 G, 23.1 M, 950 k: a rate for people. */
function si(x: number): string {
  for (const [d, unit] of [
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ] as const)
    if (x >= d) return `${+(x / d).toPrecision(3)} ${unit}`;
  return `${+x.toPrecision(3)} `;
}

/** The calibration for people, one figure a line. */
function summary(path: string, c: BoardCalibration, base: BoardProfile, profile: BoardProfile): string {
  const a = c.answer;
  const clock = profile.clockMhz;
  const fw = c.firstWeights;
  const lines = [
    `calibrated ${path}: ${a.port || 'an unnamed port'}${a.host ? ' — a simulated board: these are the host’s figures, not a board’s' : ''}`,
    `  kernel         ${c.kernel} (src/kernels.h), ${a.cores} core${a.cores > 1 ? 's' : ''}, ${a.cpuMhz ? `${a.cpuMhz} MHz` : 'clock unknown'}`,
    c.flashMBps === undefined
      ? '  flash read     not measured: the board serves no image (its image was refused?)'
      : `  flash read     ${+c.flashMBps.toPrecision(4)} MB/s: ${a.readBytes} of its ${a.imageBytes} image bytes front to back in ${a.readUs} µs (checksum 0x${a.readSum.toString(16).padStart(8, '0')})`,
    `  matmul         q4 ${si(c.macsPerSecond.q4)}MAC/s, q8 ${si(c.macsPerSecond.q8)}MAC/s (${a.rows} × ${a.cols}, group 32, ${a.budgetMs} ms each) = ` +
      `${+(c.macsPerSecond.q4 / (clock * 1e6)).toPrecision(3)} / ${+(c.macsPerSecond.q8 / (clock * 1e6)).toPrecision(3)} MAC/cycle at ${clock} MHz${a.cpuMhz ? '' : ` (${base.name}’s clock)`}`,
    fw
      ? `  first weights  ${fw.bytes} B: ${+fw.coldUs.toPrecision(3)} µs cold, ${+fw.preloadedUs.toPrecision(3)} µs right after a preload` +
        (a.preload
          ? ` (the preload itself: ${+fw.preloadUs.toPrecision(3)} µs, while the board waits)`
          : ' (no cache preload here: a plain second read)') +
        (a.invalidate ? '' : '; no cache invalidate: "cold" is as the cache happens to be')
      : '  first weights  not measured (no image)',
    `  round trip     ${c.roundTrip.medianMs.toFixed(3)} ms median, ${c.roundTrip.minMs.toFixed(3)} ms min of ${c.roundTrip.samples} probes; ` +
      (c.roundTrip.lineBaud
        ? `${c.roundTrip.wireMs.toFixed(3)} ms of it on the line at ${c.roundTrip.lineBaud} baud`
        : 'no line rate (a pseudo-terminal)') +
      `: ${c.roundTrip.perMessageMs.toFixed(3)} ms per message`,
  ];
  return `${lines.join('\n')}\n`;
}

export function registerCalibrate(program: Command, ctx: CliContext): void {
  program
    .command('calibrate')
    .description(
      'measure a board running the tinypipe firmware — flash MB/s through its mmap, its matmul’s MAC/s (q4, q8), the cache preload, the message round trip — and make a measured board profile of it',
    )
    .requiredOption(
      '--port <path>',
      'the board’s serial port (e.g. /dev/ttyUSB0, or a simulated board’s PTY)',
    )
    .option(
      '--baud <rate>',
      'the firmware’s line rate (the ESP-IDF app’s default)',
      uintFlag('--baud'),
      2_000_000,
    )
    .option(
      '--budget-ms <ms>',
      `time the board spends on each of its 5 measurements (1–${MAX_CALIBRATE_BUDGET_MS})`,
      uintFlag('--budget-ms'),
      500,
    )
    .option('--round-trips <n>', 'messages timed for the round trip', uintFlag('--round-trips'), 20)
    .option(
      '--profile <profile>',
      'the profile the measurements replace figures of (a built-in name or a *.json)',
      'esp32s3-n16r8',
    )
    .option('--name <name>', 'the measured profile’s name (default: <profile>-measured)')
    .option(
      '--out <file>',
      'write the measured profile here (for tinypipe plan --boards, build, demo --profile)',
    )
    .option('--json', 'print the calibration and the measured profile as JSON')
    .action(async (flags: CalibrateFlags) => {
      if (flags.budgetMs < 1 || flags.budgetMs > MAX_CALIBRATE_BUDGET_MS)
        throw usageError(`--budget-ms must be from 1 to ${MAX_CALIBRATE_BUDGET_MS}`);
      if (flags.roundTrips < 1) throw usageError('--round-trips must be at least 1');
      if (flags.baud < 1) throw usageError('--baud must be a positive line rate, e.g. 2000000');
      const base = await resolveProfile(ctx, flags.profile);
      const say = (s: string) => (flags.json ? undefined : ctx.stderr.write(s));
      // the board answers heartbeats between its measurements only: the link waits out one of them
      const link = await ReliableLink.connect(await openSerialPort(flags.port, { baudRate: flags.baud }), {
        timeoutMs: flags.budgetMs + 3000,
      }).catch((e: unknown) => {
        if (TinypipeError.hasCode(e, 'TIMEOUT'))
          throw new TinypipeError(
            'TIMEOUT',
            `no tinypipe firmware answered on ${flags.port} (is it flashed, running, at ${flags.baud} baud? tinypipe boards --port ${flags.port} says what is there)`,
            { cause: e },
          );
        throw e;
      });
      let calibration: BoardCalibration;
      try {
        calibration = await calibrateBoard(link, {
          budgetMs: flags.budgetMs,
          roundTrips: flags.roundTrips,
          signal: ctx.signal,
          onProgress: (e) => {
            if (e.phase === 'round-trip' && e.done === e.of) say(`timed ${e.of} round trips\n`);
            if (e.phase === 'measuring')
              say(`the board measures itself (up to ${(e.upToMs / 1000).toFixed(1)} s)…\n`);
          },
        });
      } finally {
        await link.close();
      }
      const profile = measuredProfile(base, calibration, {
        date: new Date().toISOString(),
        ...(flags.name ? { name: flags.name } : {}),
      });
      const out = flags.out ? resolve(ctx.cwd, flags.out) : undefined;
      if (out) await writeFileAtomic(out, new TextEncoder().encode(`${JSON.stringify(profile, null, 2)}\n`));
      if (flags.json) return printJson(ctx, { port: flags.port, calibration, profile, out: out ?? null });
      ctx.stdout.write(summary(flags.port, calibration, base, profile));
      const what = `${profile.name} (${base.name} with flashMBps, macsPerCycle, kernel, perMessageMs, preloadBytes measured)`;
      ctx.stdout.write(
        out
          ? `measured profile ${what} written to ${out}: tinypipe plan --boards ${flags.out} …\n`
          : `measured profile ${what}: --out FILE writes it for tinypipe plan --boards, build and demo --profile\n`,
      );
    });
}
