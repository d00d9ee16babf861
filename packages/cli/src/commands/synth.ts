import { resolve } from 'node:path';
import { parameterCount, synthesize, writeCheckpoint } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { enumFlag, uintFlag } from '../io/options.js';

interface SynthFlags {
  shape: '260K' | '15M' | '42M' | '110M';
  seed: number;
  out: string;
  version: '0' | '1';
  json?: boolean;
}

export function registerSynth(program: Command, ctx: CliContext): void {
  program
    .command('synth')
    .description(
      'write a deterministic synthetic llama2.c checkpoint of a published shape (no real weights needed)',
    )
    .requiredOption(
      '--shape <shape>',
      'model shape: 260K, 15M, 42M or 110M',
      enumFlag('--shape', ['260K', '15M', '42M', '110M']),
    )
    .requiredOption('--seed <n>', 'PRNG seed (same seed, same bytes)', uintFlag('--seed'))
    .requiredOption('--out <path>', 'checkpoint file to write')
    .option(
      '--version <v>',
      'llama2.c file format: 0 (legacy, what run.c reads) or 1',
      enumFlag('--version', ['0', '1']),
      '0',
    )
    .option('--json', 'print a JSON summary')
    .action(async (flags: SynthFlags) => {
      const checkpoint = synthesize(flags.shape, flags.seed);
      const bytes = writeCheckpoint(checkpoint, { version: Number(flags.version) as 0 | 1 });
      const out = resolve(ctx.cwd, flags.out);
      await writeFileAtomic(out, bytes);
      const summary = {
        out,
        shape: flags.shape,
        seed: flags.seed,
        version: Number(flags.version),
        bytes: bytes.byteLength,
        parameters: parameterCount(checkpoint.config),
        config: checkpoint.config,
      };
      if (flags.json) printJson(ctx, summary);
      else {
        ctx.stdout.write(
          `wrote ${out}: synthetic ${flags.shape} (seed ${flags.seed}), llama2.c v${flags.version}, ` +
            `${summary.parameters.toLocaleString('en-US')} parameters, ${bytes.byteLength.toLocaleString('en-US')} bytes\n`,
        );
      }
    });
}
