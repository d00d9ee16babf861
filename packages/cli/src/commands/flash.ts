import { resolve } from 'node:path';
import { TinypipeError, type Transport } from '@tinypipe/core';
import { type BoardResult, type FlashEvent, type FlashTarget, flashPlan } from '@tinypipe/flasher';
import { readBuild } from '@tinypipe/flasher/node';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { uintFlag } from '../io/options.js';

interface FlashFlags {
  build: string;
  port: string[];
  baud: number;
  json?: boolean;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];
const mib = (n: number) => `${(n / 1048576).toFixed(2)} MiB`;

/** A board whose port could not even be opened: its result, so the others still flash. */
const unopened = (board: number, port: string, error: TinypipeError): BoardResult => ({
  board,
  port,
  ok: false,
  written: [],
  skipped: [],
  bytesWritten: 0,
  ms: 0,
  error,
});

export function registerFlash(program: Command, ctx: CliContext): void {
  program
    .command('flash')
    .description('flash every board of a build at once (MD5-verified; regions already there are skipped)')
    .requiredOption('--build <dir>', 'the folder tinypipe build wrote')
    .requiredOption('--port <path>', 'serial port of board 0, then board 1, … (repeat the flag)', collect)
    .option('--baud <rate>', 'line rate', uintFlag('--baud'), 921_600)
    .option('--json', 'print a JSON summary')
    .action(async (flags: FlashFlags) => {
      const boards = await readBuild(resolve(ctx.cwd, flags.build));
      if (flags.port.length !== boards.length)
        throw usageError(
          `the build has ${boards.length} board(s) but ${flags.port.length} --port given: one per board, in board order`,
        );
      const opened: (FlashTarget | BoardResult)[] = await Promise.all(
        boards.map(async (b, i): Promise<FlashTarget | BoardResult> => {
          const port = flags.port[i]!;
          try {
            const transport: Transport = await openSerialPort(port, { baudRate: flags.baud });
            return { image: b, port, transport };
          } catch (e) {
            return unopened(b.board, port, e as TinypipeError);
          }
        }),
      );
      const targets = opened.filter((t): t is FlashTarget => 'transport' in t);
      const tty = !flags.json && (ctx.stdout as { isTTY?: boolean }).isTTY === true;
      const bars = tty
        ? new MultiBar(
            { format: ' board {board} {port} |{bar}| {percentage}% {region} {speed}', hideCursor: true },
            Presets.shades_classic,
          )
        : undefined;
      const bar = new Map<number, ReturnType<MultiBar['create']>>();
      const onEvent = (e: FlashEvent) => {
        if (e.kind === 'progress') {
          if (bars && !bar.has(e.board))
            bar.set(e.board, bars.create(100, 0, { board: e.board, port: e.port, region: '', speed: '' }));
          bar.get(e.board)?.update(Math.round((100 * e.done) / e.total), { region: e.region });
          return;
        }
        if (flags.json || bars) return;
        const line: Record<string, string> = {
          connected: `${'chip' in e ? e.chip : ''} ${'mac' in e ? e.mac : ''} ${'flashBytes' in e ? mib(e.flashBytes) : ''}`,
          skipped: `${'region' in e ? e.region : ''} already there (MD5 matches), skipped`,
          verified: `${'region' in e ? e.region : ''} written and verified`,
          rewrite: `${'region' in e ? e.region : ''} did not verify, rewriting`,
          done: 'done',
          failed: `FAILED: ${'error' in e ? `${e.error.code}: ${e.error.message}` : ''}`,
        };
        ctx.stdout.write(`board ${e.board} (${e.port}): ${line[e.kind]}\n`);
      };
      const flashed = await flashPlan(targets, { onEvent });
      bars?.stop();
      const results = boards.map(
        (b) =>
          flashed.find((r) => r.board === b.board) ??
          (opened.find((o) => !('transport' in o) && o.board === b.board) as BoardResult),
      );
      const failed = results.filter((r) => !r.ok);
      if (flags.json) {
        printJson(ctx, {
          ok: failed.length === 0,
          boards: results.map((r) => ({
            board: r.board,
            port: r.port,
            ok: r.ok,
            mac: r.mac,
            written: r.written,
            skipped: r.skipped,
            bytesWritten: r.bytesWritten,
            bytesPerSecond: r.ms > 0 ? Math.round(r.bytesWritten / (r.ms / 1000)) : 0,
            error: r.error ? { code: r.error.code, message: r.error.message } : undefined,
          })),
        });
      } else {
        for (const r of results) {
          const what = r.ok
            ? `${r.written.length ? `wrote ${r.written.join(', ')} (${mib(r.bytesWritten)}, ${(r.bytesWritten / 1048576 / (r.ms / 1000)).toFixed(2)} MiB/s)` : 'nothing to write'}${r.skipped.length ? `; skipped ${r.skipped.join(', ')} (already there)` : ''}`
            : `FAILED ${r.error?.code}: ${r.error?.message}`;
          ctx.stdout.write(`board ${r.board} ${r.port}: ${what}\n`);
        }
      }
      if (failed.length)
        throw new TinypipeError(
          failed[0]!.error?.code ?? 'FLASH_FAILED',
          `${failed.length} of ${results.length} board(s) failed (${failed.map((r) => `board ${r.board} on ${r.port}: ${r.error?.code}`).join('; ')}); the others are flashed — fix and re-run, finished regions are skipped`,
        );
    });
}
