import { Fp32Engine, generate, Sampler } from '@tinypipe/core';
import type { Command } from 'commander';
import type { CliContext } from '../io/context.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { intFlag, uintFlag } from '../io/options.js';

interface DemoFlags {
  prompt: string;
  steps: number;
  seed?: number;
}

/**
 * `npm run demo`: streams a story from the bundled stories260K on the host. (The multi-board demo on
 * simulated ESP32-S3 boards replaces this once the firmware and transport land.)
 */
export function registerDemo(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('stream a story from the bundled stories260K model')
    .option('--prompt <text>', 'how the story starts', 'Once upon a time')
    .option('--steps <n>', 'positions to generate', intFlag('--steps'), 256)
    .option('--seed <n>', 'sampler seed (default: the clock)', uintFlag('--seed'))
    .action(async (flags: DemoFlags) => {
      const seed = flags.seed ?? Math.floor(Date.now() / 1000);
      const { checkpoint, label } = await loadModel(ctx, undefined);
      const tokenizer = await loadTokenizer(ctx, undefined, checkpoint.config.vocabSize);
      const c = checkpoint.config;
      ctx.stderr.write(
        `tinypipe demo: ${label} (${c.nLayers} layers, dim ${c.dim}, vocab ${c.vocabSize}), fp32 engine on the host, seed ${seed}\n\n`,
      );
      const engine = new Fp32Engine(checkpoint);
      const sampler = new Sampler({ vocabSize: c.vocabSize, temperature: 0.8, topp: 0.9, seed });
      let count = 0;
      let first = 0;
      for await (const t of generate({
        engine,
        tokenizer,
        sampler,
        prompt: flags.prompt,
        steps: flags.steps,
        signal: ctx.signal,
      })) {
        if (count++ === 0) first = performance.now();
        ctx.stdout.write(t.piece);
      }
      const seconds = (performance.now() - first) / 1000;
      ctx.stdout.write('\n');
      ctx.stderr.write(`\n${count} tokens, ${count > 1 ? ((count - 1) / seconds).toFixed(0) : 0} tok/s\n`);
    });
}
