import { realpathSync } from 'node:fs';
import { resolve } from 'node:path';
import { type BoardResult, EspLoader, type FlashEvent, type FlashTarget, flashPlan } from '@tinypipe/flasher';
import {
  type BuiltBoard,
  ESPTOOL_JS,
  loadStub,
  readBuild,
  readIdfBuild,
  rememberMac,
} from '@tinypipe/flasher/node';
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { listSerialPorts, openSerialPort } from '@tinypipe/transport-uart/node';
import { MultiBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { uintFlag } from '../io/options.js';

interface FlashFlags {
  build: string;
  idfBuild?: string;
  port: string[];
  baud: number;
  stub?: string;
  forgetMacs?: boolean;
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

/**
 * Which port is which board: by the MAC each board's manifest remembers from an earlier flash (the
 * ports may then be given in any order), else in the order given.
 */
async function portsFor(boards: BuiltBoard[], ports: string[]): Promise<string[]> {
  if (!boards.every((b) => b.mac)) return ports;
  const macs = await Promise.all(
    ports.map(async (port) => {
      try {
        const loader = new EspLoader(await openSerialPort(port, { baudRate: 115_200 }), port, {
          timeoutMs: 1000,
        });
        try {
          await loader.sync(3);
          return await loader.mac();
        } finally {
          await loader.close().catch(() => {});
        }
      } catch {
        return undefined; // unreachable now: flashing will say why
      }
    }),
  );
  const mapped = boards.map((b, i) => {
    const at = macs.indexOf(b.mac);
    return at >= 0 ? ports[at]! : ports[i]!;
  });
  return new Set(mapped).size === mapped.length ? mapped : ports; // ambiguous: keep the order given
}

export function registerFlash(program: Command, ctx: CliContext): void {
  program
    .command('flash')
    .description('flash every board of a build at once (MD5-verified; regions already there are skipped)')
    .requiredOption('--build <dir>', 'the folder tinypipe build wrote')
    .requiredOption(
      '--port <path>',
      'serial port of each board (repeat the flag): in board order the first time; matched by MAC afterwards',
      collect,
    )
    .option('--baud <rate>', 'line rate', uintFlag('--baud'), 921_600)
    .option(
      '--idf-build <dir>',
      'also flash the bootloader and app of this ESP-IDF build folder (ports/esp-idf)',
    )
    .option(
      '--stub <path|esptool-js>',
      "upload this flasher stub first (esptool's stub JSON, e.g. esptool's targets/stub_flasher/esp32s3.json; 'esptool-js': the one in the esptool-js package, if installed): 16 KiB blocks instead of the ROM's 1 KiB",
    )
    .option(
      '--forget-macs',
      'flash whichever chip is on each port, in board order, and record its MAC anew (a replaced board); without it a chip other than the one a board was flashed to is refused (WRONG_BOARD)',
    )
    .option('--json', 'print a JSON summary')
    .action(async (flags: FlashFlags) => {
      // the same device twice (also through a symlink such as /dev/serial/by-id/…): refused before any port opens
      const device = (port: string) => {
        try {
          return realpathSync(resolve(ctx.cwd, port));
        } catch {
          return port; // missing: opening it will say so
        }
      };
      const twice = flags.port.findIndex((p, i) => flags.port.slice(0, i).map(device).includes(device(p)));
      if (twice >= 0) {
        const first = flags.port.findIndex((p) => device(p) === device(flags.port[twice]!));
        throw usageError(
          `--port ${flags.port[twice]} is given twice (for board ${first} and board ${twice}${flags.port[first] !== flags.port[twice] ? `, as ${flags.port[first]}` : ''}): give each board its own port`,
        );
      }
      // a bad stub is refused before any board is touched
      const stub =
        flags.stub === undefined
          ? undefined
          : await loadStub(flags.stub === ESPTOOL_JS ? ESPTOOL_JS : resolve(ctx.cwd, flags.stub), {
              cwd: ctx.cwd,
            });
      const boards = await readBuild(resolve(ctx.cwd, flags.build));
      if (flags.idfBuild) {
        const firmware = await readIdfBuild(resolve(ctx.cwd, flags.idfBuild));
        for (const b of boards) b.regions = [...firmware, ...b.regions].sort((x, y) => x.offset - y.offset);
      }
      if (flags.port.length !== boards.length)
        throw usageError(
          `the build has ${boards.length} board(s) but ${flags.port.length} --port given: one per board, in board order`,
        );
      if (flags.forgetMacs) for (const b of boards) b.mac = undefined; // paired anew below, after flashing
      const ports = await portsFor(boards, flags.port);
      if (!flags.json)
        for (const [i, port] of ports.entries())
          if (port !== flags.port[i])
            ctx.stdout.write(
              `board ${boards[i]!.board}: its chip (${boards[i]!.mac}) answers on ${port}, so that port flashes it\n`,
            );
      // the reset wiring follows the USB id: the S3's own USB-JTAG-serial, or a USB-UART bridge
      const usb = new Map((await listSerialPorts()).map((p) => [p.path, p]));
      const resetFor = (port: string): FlashTarget['reset'] => {
        const p = usb.get(port);
        if (!p?.vendorId) return 'none';
        return `${p.vendorId}:${p.productId}` === '303a:1001' ? 'usb-jtag-serial' : 'bridge';
      };
      flags.port = ports;
      const opened: (FlashTarget | BoardResult)[] = await Promise.all(
        boards.map(async (b, i): Promise<FlashTarget | BoardResult> => {
          const port = flags.port[i]!;
          try {
            // the ROM listens at 115200; CHANGE_BAUDRATE then switches to --baud
            const transport: Transport = await openSerialPort(port, { baudRate: 115_200 });
            return { image: b, port, transport, reset: resetFor(port) };
          } catch (e) {
            return unopened(b.board, port, e as TinypipeError);
          }
        }),
      );
      const targets = opened.filter((t): t is FlashTarget => 'transport' in t);
      // bars on stderr (a terminal): stdout keeps the per-board results
      const tty = ctx.stderr.isTTY === true;
      const bars = tty
        ? new MultiBar(
            {
              format: ' board {board} {port} |{bar}| {percentage}% {region} {speed}',
              hideCursor: true,
              stream: ctx.stderr as unknown as NodeJS.WritableStream,
            },
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
          connected:
            e.kind === 'connected'
              ? `${e.chip} ${e.mac} ${mib(e.flashBytes)}${e.flashSizeKnown ? '' : ` (flash id 0x${e.flashId.toString(16)} not in esptool's size table: the profile's size assumed)`}, ${e.loader === 'stub' ? 'flasher stub' : 'ROM loader'}`
              : '',
          skipped: `${'region' in e ? e.region : ''} already there (MD5 matches), skipped`,
          resumed:
            e.kind === 'resumed'
              ? `${e.region}: ${mib(e.bytes)} of ${mib(e.total)} already there from an earlier run, writing the rest`
              : '',
          verified: `${'region' in e ? e.region : ''} written and verified`,
          rewrite: `${'region' in e ? e.region : ''} did not verify, rewriting`,
          done: 'done',
          failed: `FAILED: ${'error' in e ? `${e.error.code}: ${e.error.message}` : ''}`,
        };
        ctx.stdout.write(`board ${e.board} (${e.port}): ${line[e.kind]}\n`);
      };
      const flashed = await flashPlan(targets, { onEvent, baud: flags.baud, stub });
      bars?.stop();
      for (const r of flashed) {
        const b = boards.find((x) => x.board === r.board);
        if (r.ok && r.mac && b) await rememberMac(b, r.mac); // later runs match ports by MAC
      }
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
            loader: r.loader,
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
          `${failed.length} of ${results.length} board(s) failed (${failed.map((r) => `board ${r.board} on ${r.port}: ${r.error?.code}`).join('; ')}); ${failed.length === results.length ? 'none is flashed' : `the other ${results.length - failed.length} ${results.length - failed.length === 1 ? 'is' : 'are'} flashed`} — fix and re-run: what is already written is skipped`,
        );
    });
}
