import { listSerialPorts } from '@tinypipe/transport-uart/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';

export function registerPorts(program: Command, ctx: CliContext): void {
  program
    .command('ports')
    .description('list serial ports with their USB ids, marking the ones that look like an ESP32-S3')
    .option('--json', 'print JSON')
    .action(async (flags: { json?: boolean }) => {
      const ports = await listSerialPorts();
      if (flags.json) {
        printJson(ctx, ports);
        return;
      }
      if (ports.length === 0) {
        ctx.stdout.write('no serial ports found (is the board plugged in, and is its USB driver loaded?)\n');
        return;
      }
      for (const p of ports) {
        const usb = p.vendorId ? `${p.vendorId}:${p.productId}` : '-';
        const what =
          p.chip ?? (p.vendorId ? [p.manufacturer, p.product].filter(Boolean).join(' ') : 'not USB');
        ctx.stdout.write(`${p.likelyEsp32s3 ? '*' : ' '} ${p.path.padEnd(22)} ${usb.padEnd(10)} ${what}\n`);
      }
      if (ports.some((p) => p.likelyEsp32s3)) ctx.stdout.write('* likely an ESP32-S3\n');
    });
}
