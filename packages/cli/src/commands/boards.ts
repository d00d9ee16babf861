import { fingerprintHex } from '@tinypipe/core';
import { EspLoader } from '@tinypipe/flasher';
import { describeHolding } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { listSerialPorts, openSerialPort } from '@tinypipe/transport-uart/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { uintFlag } from '../io/options.js';

interface BoardReport {
  port: string;
  /** 'firmware': it answered the pipeline handshake; 'bootloader': the ROM / stub answered; else 'silent'. */
  state: 'firmware' | 'bootloader' | 'silent' | 'error';
  chip?: string;
  /** Who answered the bootloader's SYNC: the chip's ROM loader, or a flasher stub left running. */
  loader?: 'rom' | 'stub';
  mac?: string;
  /** From the flash chip's JEDEC id (esptool's size table); undefined when the table does not know the id. */
  flashBytes?: number | undefined;
  flashId?: string;
  board?: number | undefined;
  fingerprint?: string;
  layers?: readonly [number, number] | undefined;
  vocab?: readonly [number, number] | undefined;
  error?: string;
}

/** What is on `port`: the tinypipe firmware (its HELLO), else a bootloader (chip, MAC, flash size). */
async function probe(port: string, baud: number): Promise<BoardReport> {
  try {
    const link = await ReliableLink.connect(await openSerialPort(port, { baudRate: baud }), {
      handshakeTimeoutMs: 600,
      heartbeatMs: 0,
    }).catch(() => undefined);
    if (link?.peer) {
      const p = link.peer;
      await link.close();
      return {
        port,
        state: 'firmware',
        board: p.board,
        fingerprint: p.fingerprint ? fingerprintHex(p.fingerprint) : undefined,
        layers: p.layers,
        vocab: p.vocab,
      };
    }
    // the ROM loader listens at 115200 whatever the firmware's rate ("Serial Protocol", Initialization)
    const loader = new EspLoader(await openSerialPort(port, { baudRate: 115_200 }), port, {
      timeoutMs: 1000,
    });
    try {
      const kind = await loader.sync(3);
      const chip = await loader.chip();
      const mac = await loader.mac();
      await loader.attachFlash(); // the ROM reads the flash only once attached (esptool attaches first too)
      const flash = await loader.flashSize();
      return {
        port,
        state: 'bootloader',
        chip: chip.name,
        loader: kind,
        mac,
        flashBytes: flash.bytes,
        flashId: `0x${flash.id.toString(16).padStart(6, '0')}`,
      };
    } catch (e) {
      if (TinypipeError.hasCode(e, 'TIMEOUT')) return { port, state: 'silent' };
      throw e;
    } finally {
      await loader.close().catch(() => {});
    }
  } catch (e) {
    return {
      port,
      state: 'error',
      error: TinypipeError.isInstance(e) ? `${e.code}: ${e.message}` : String(e),
    };
  }
}

/** A port that could not be probed (no such device, busy, no permission) fails the command: exit 1. */
function failIfUnprobed(reports: readonly BoardReport[]): void {
  const bad = reports.filter((r) => r.state === 'error');
  if (bad.length === 0) return;
  const first = bad[0]!.error ?? '';
  const code = /^([A-Z_]+): /.exec(first)?.[1];
  throw new TinypipeError(
    code === 'PORT_NOT_FOUND' || code === 'PORT_BUSY' || code === 'PORT_OPEN_FAILED'
      ? code
      : 'PORT_OPEN_FAILED',
    `${bad.length} of ${reports.length} port(s) could not be probed: ${bad.map((r) => `${r.port}: ${r.error}`).join('; ')}`,
  );
}

export function registerBoards(program: Command, ctx: CliContext): void {
  program
    .command('boards')
    .description(
      'what is connected: the tinypipe firmware (model fingerprint, layers) or a bootloader (chip, MAC, flash)',
    )
    .option(
      '--port <path>',
      'probe this port (repeat; default: the ports that look like an ESP32-S3)',
      (v: string, p: string[] = []) => [...p, v],
    )
    .option(
      '--baud <rate>',
      'the firmware’s line rate (the ESP-IDF app’s default); a bootloader is probed at 115200',
      uintFlag('--baud'),
      2_000_000,
    )
    .option('--json', 'print JSON')
    .action(async (flags: { port?: string[]; baud: number; json?: boolean }) => {
      const ports = flags.port ?? (await listSerialPorts()).filter((p) => p.likelyEsp32s3).map((p) => p.path);
      const reports = await Promise.all(ports.map((p) => probe(p, flags.baud)));
      if (flags.json) {
        printJson(ctx, reports);
        return failIfUnprobed(reports);
      }
      if (reports.length === 0) ctx.stdout.write('no ESP32-S3 ports found (pass --port to probe one)\n');
      for (const r of reports) {
        const what =
          r.state === 'firmware'
            ? `tinypipe firmware: board ${r.board ?? '-'}, ${r.layers ? describeHolding({ layers: r.layers, vocab: r.vocab }) : 'no model'}, model ${r.fingerprint?.slice(0, 16) ?? 'none'}…`
            : r.state === 'bootloader'
              ? `bootloader (${r.loader === 'stub' ? 'flasher stub' : 'ROM'}): ${r.chip}, MAC ${r.mac}, ${r.flashBytes === undefined ? `flash id ${r.flashId} (size unknown to esptool's table)` : `${r.flashBytes / 1048576} MiB flash`}`
              : r.state === 'silent'
                ? 'no answer (not in download mode, or not an ESP32)'
                : r.error;
        ctx.stdout.write(`${r.port.padEnd(20)} ${what}\n`);
      }
      failIfUnprobed(reports);
    });
}
