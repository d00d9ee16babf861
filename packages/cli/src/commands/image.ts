import { resolve } from 'node:path';
import { fingerprintHex, verifyImage } from '@tinypipe/core';
import { readVerifiedFile } from '@tinypipe/core/node';
import { describeHolding } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';

const fmt = (n: number) => n.toLocaleString('en-US');
const hex = (b: Uint8Array) => Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');

export function registerImage(program: Command, ctx: CliContext): void {
  const image = program.command('image').description('weight images (one per board)');
  image
    .command('inspect')
    .description('show an image: header, tensor table, and every check (exit 1 if one fails)')
    .argument('<path>', 'weight image file')
    .option('--json', 'print JSON')
    .action(async (path: string, flags: { json?: boolean }) => {
      const report = verifyImage(await readVerifiedFile(resolve(ctx.cwd, path)));
      const h = report.header;
      if (flags.json) {
        printJson(ctx, {
          ok: report.ok,
          byteLength: report.byteLength,
          sha256: hex(report.sha256),
          // `vocabRange` is the deprecated name of `vocab`, kept in this JSON for existing scripts.
          header: h && { ...h, vocabRange: h.vocab, fingerprint: fingerprintHex(h.fingerprint) },
          tensors: report.tensors,
          checks: report.checks,
        });
      } else {
        const lines: string[] = [];
        if (h) {
          const c = h.config;
          lines.push(
            `image       ${path} (${fmt(report.byteLength)} bytes, format v${h.version})`,
            `fingerprint ${fingerprintHex(h.fingerprint)}`,
            `shape       dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads} heads (${c.nKvHeads} kv), vocab ${c.vocabSize}, seq ${c.seqLen}`,
            `holds       ${describeHolding({ layers: h.layerRange, embedding: h.embedding, vocab: h.vocab }, c.vocabSize)}`,
            `weights     ${h.kind}, group ${h.groupSize}, fp16 scales`,
            `kv cache    ${h.kv}`,
            `sha256      ${hex(report.sha256)}`,
            '',
          );
        }
        if (report.tensors) {
          lines.push(
            `${'tensor'.padEnd(26)}${'dtype'.padEnd(7)}${'shape'.padEnd(14)}${'offset'.padStart(12)}${'bytes'.padStart(12)}  crc32c`,
          );
          for (const t of report.tensors) {
            lines.push(
              `${t.name.padEnd(26)}${t.dtype.padEnd(7)}${t.shape.join('×').padEnd(14)}${fmt(t.offset).padStart(12)}${fmt(t.byteLength).padStart(12)}  ${t.crc32c.toString(16).padStart(8, '0')}`,
            );
          }
          lines.push('');
        }
        for (const c of report.checks)
          lines.push(`${c.ok ? 'ok  ' : 'FAIL'} ${c.check.padEnd(22)} ${c.message}`);
        ctx.stdout.write(`${lines.join('\n')}\n`);
      }
      if (!report.ok) {
        const failed = report.checks.find((c) => !c.ok)!;
        throw new TinypipeError(
          failed.code ?? 'IMAGE_BAD_HEADER',
          `image check "${failed.check}" failed: ${failed.message}`,
        );
      }
    });
}
