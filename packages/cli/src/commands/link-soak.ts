import { runLinkSoak } from '@tinypipe/transport-uart';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { floatFlag, uintFlag } from '../io/options.js';

interface SoakFlags {
  frames: number;
  payload: number;
  ber: number;
  drop: number;
  insert: number;
  garbage: number;
  seed: number;
  retries: number;
  baud?: number;
  json?: boolean;
}

const probability = (flag: string) => (raw: string) => {
  const v = floatFlag(flag)(raw);
  if (v < 0 || v >= 1) throw usageError(`${flag} ${raw} must be a probability in [0, 1)`);
  return v;
};

export function registerLinkSoak(program: Command, ctx: CliContext): void {
  program
    .command('link-soak')
    .description('run two reliable link endpoints through a fault-injecting line and count what arrives')
    .option('--frames <n>', 'messages to send', uintFlag('--frames'), 10_000)
    .option(
      '--payload <bytes>',
      'bytes per message (drop/insert rates are per byte)',
      uintFlag('--payload'),
      32,
    )
    .option('--ber <p>', 'bit error rate', probability('--ber'), 0)
    .option('--drop <p>', 'probability that a byte is lost', probability('--drop'), 0)
    .option('--insert <p>', 'probability that a random byte is inserted', probability('--insert'), 0)
    .option(
      '--garbage <p>',
      'probability, per byte, of a burst of 8-64 random bytes',
      probability('--garbage'),
      0,
    )
    .option('--seed <n>', 'fault PRNG seed', uintFlag('--seed'), 1)
    .option(
      '--retries <n>',
      'retransmissions of one frame before LINK_DOWN (high: the soak measures integrity; 1% byte loss damages most frames)',
      uintFlag('--retries'),
      100,
    )
    .option(
      '--baud <rate>',
      'pace the line at this rate, 10 bits per byte, and report throughput',
      uintFlag('--baud'),
    )
    .option('--json', 'print JSON')
    .action(async (flags: SoakFlags) => {
      if (flags.baud === 0) throw usageError('--baud must be a positive line rate, e.g. 921600');
      const r = await runLinkSoak({
        frames: flags.frames,
        payload: flags.payload,
        ber: flags.ber,
        drop: flags.drop,
        insert: flags.insert,
        garbage: flags.garbage,
        seed: flags.seed,
        ...(flags.baud !== undefined ? { baud: flags.baud } : {}),
        link: { maxRetries: flags.retries },
      });
      const report = {
        frames: r.frames,
        delivered: r.delivered,
        corruptDelivered: r.corruptDelivered,
        duplicatesDelivered: r.duplicatesDelivered,
        outOfOrder: r.outOfOrder,
        lost: r.lost,
        retransmits: r.retransmits,
        crcFailures: r.crcFailures,
        lineUtilisation: r.lineUtilisation,
        payloadBytesPerSecond: Math.round(r.payloadBytesPerSecond),
        elapsedMs: Math.round(r.elapsedMs),
      };
      if (flags.json) printJson(ctx, report);
      else {
        for (const [k, v] of Object.entries(report)) {
          ctx.stdout.write(
            `${k.padEnd(20)} ${typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(4) : v}\n`,
          );
        }
      }
    });
}
