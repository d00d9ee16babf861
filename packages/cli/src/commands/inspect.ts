import { checkpointLayout, parameterCount } from '@tinypipe/core';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { loadModel } from '../io/models.js';

const fmt = (n: number) => n.toLocaleString('en-US');

export function registerInspect(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description('show a llama2.c checkpoint: format, shape, parameters, bytes and tensor table')
    .argument('<model>', 'llama2.c checkpoint file (v0, v1 or v2), or synth:260K|15M|42M|110M[:seed]')
    .option('--json', 'print JSON')
    .action(async (model: string, flags: { json?: boolean }) => {
      const { checkpoint, label } = await loadModel(ctx, model);
      const { config, source } = checkpoint;
      const layout = checkpointLayout(config, source.version, source.groupSize);
      const info = {
        model: label,
        format: { version: source.version, ...(source.groupSize ? { groupSize: source.groupSize } : {}) },
        config,
        headSize: config.dim / config.nHeads,
        kvDim: (config.dim * config.nKvHeads) / config.nHeads,
        parameters: parameterCount(config),
        bytes: layout.fileBytes,
        tensors: layout.tensors.map((t) => ({
          name: t.name,
          dtype: t.dtype,
          count: t.count,
          offset: t.offset,
          bytes: t.bytes,
        })),
      };
      if (flags.json) {
        printJson(ctx, info);
        return;
      }
      const names = ['', 'legacy (v0, run.c)', 'fp32 (v1)', 'Q8_0 (v2)'];
      const c = config;
      ctx.stdout.write(
        [
          `model       ${label}`,
          `format      llama2.c ${names[source.version + 1]}${source.groupSize ? `, group size ${source.groupSize}` : ''}`,
          `shape       dim ${c.dim}, hidden ${c.hiddenDim}, ${c.nLayers} layers, ${c.nHeads} heads (${c.nKvHeads} kv), head size ${info.headSize}`,
          `vocabulary  ${fmt(c.vocabSize)} tokens, classifier ${c.sharedClassifier ? 'shared with the embedding' : 'separate'}`,
          `context     ${fmt(c.seqLen)} positions`,
          `parameters  ${fmt(info.parameters)}`,
          `file bytes  ${fmt(info.bytes)}`,
          '',
          `${'tensor'.padEnd(16)}${'dtype'.padEnd(7)}${'values'.padStart(13)}${'offset'.padStart(14)}${'bytes'.padStart(14)}`,
          ...info.tensors.map(
            (t) =>
              `${t.name.padEnd(16)}${t.dtype.padEnd(7)}${fmt(t.count).padStart(13)}${fmt(t.offset).padStart(14)}${fmt(t.bytes).padStart(14)}`,
          ),
          '',
        ].join('\n'),
      );
    });
}
