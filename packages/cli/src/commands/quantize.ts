import { resolve } from 'node:path';
import { buildImage, fingerprintHex, quantize } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { loadModel } from '../io/models.js';
import { enumFlag, uintFlag } from '../io/options.js';

interface QuantizeFlags {
  model?: string;
  weights: 'q4' | 'q8';
  group: number;
  out: string;
  json?: boolean;
}

export function registerQuantize(program: Command, ctx: CliContext): void {
  program
    .command('quantize')
    .description('quantize a checkpoint into one whole-model weight image (docs/image-format.md)')
    .option('--model <path>', 'llama2.c checkpoint or synth:SHAPE[:seed] (default: bundled stories260K)')
    .requiredOption(
      '--weights <kind>',
      'q4 (int4) or q8 (int8), symmetric per group',
      enumFlag('--weights', ['q4', 'q8']),
    )
    .option('--group <n>', 'values per quantization group along a row', uintFlag('--group'), 32)
    .requiredOption('--out <path>', 'image file to write')
    .option('--json', 'print a JSON summary')
    .action(async (flags: QuantizeFlags) => {
      const { checkpoint, label } = await loadModel(ctx, flags.model);
      const qm = quantize(checkpoint, { weights: flags.weights, groupSize: flags.group });
      const image = buildImage(qm, {
        layers: [0, checkpoint.config.nLayers],
        embedding: true,
        classifier: true,
      });
      const out = resolve(ctx.cwd, flags.out);
      await writeFileAtomic(out, image);
      const summary = {
        out,
        model: label,
        weights: flags.weights,
        groupSize: flags.group,
        bytes: image.byteLength,
        fingerprint: fingerprintHex(qm.fingerprint),
      };
      if (flags.json) printJson(ctx, summary);
      else {
        ctx.stdout.write(
          `wrote ${out}: ${label} as ${flags.weights} g${flags.group}, ${image.byteLength.toLocaleString('en-US')} bytes, ` +
            `model fingerprint ${summary.fingerprint.slice(0, 16)}…\n`,
        );
      }
    });
}
