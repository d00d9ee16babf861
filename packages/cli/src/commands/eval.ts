import { resolve } from 'node:path';
import { evaluateAsync, Fp32Engine, QuantEngine, quantize } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { enumFlag, intFlag, uintFlag } from '../io/options.js';
import { createProgress } from '../io/progress.js';
import { renderEvalSvg } from '../pictures/eval-svg.js';

/** The prompts of the quality table in docs/numerics.md (the goldens' "" and "Lily", and three more). */
export const EVAL_PROMPTS = ['', 'Lily', 'Once upon a time', 'Tom and his dog', 'The sun was hot'];

interface EvalFlags {
  model?: string;
  tokenizer?: string;
  quant: ('q4' | 'q8')[];
  group: number;
  steps: number;
  json?: boolean;
  svg?: string;
}

export function registerEval(program: Command, ctx: CliContext): void {
  program
    .command('eval')
    .description('quality of quantized weights vs fp32: top-1 agreement, mean KL, perplexity')
    .option('--model <path>', 'llama2.c checkpoint or synth:SHAPE[:seed] (default: bundled stories260K)')
    .option('--tokenizer <path>', 'tokenizer.bin (default: the bundled one matching the model)')
    .requiredOption(
      '--quant <kind>',
      'q4 or q8 (repeat the flag for both)',
      (v: string, prev: ('q4' | 'q8')[] = []) => [...prev, enumFlag('--quant', ['q4', 'q8'])(v)],
    )
    .option('--group <n>', 'quantization group size', uintFlag('--group'), 32)
    .option('--steps <n>', 'positions per prompt (capped at seq_len)', intFlag('--steps'), 256)
    .option('--json', 'print JSON')
    .option('--svg <file>', 'draw the figures as an SVG chart')
    .action(async (flags: EvalFlags) => {
      const { checkpoint, label } = await loadModel(ctx, flags.model);
      const tokenizer = await loadTokenizer(ctx, flags.tokenizer, checkpoint.config.vocabSize);
      const prompts = EVAL_PROMPTS.map((p) => tokenizer.encode(p, { bos: true, eos: false }));
      const reference = new Fp32Engine(checkpoint);
      const progress = createProgress(ctx, 'eval', { json: flags.json });
      const rows = [];
      try {
        for (const [k, kind] of flags.quant.entries()) {
          const report = await evaluateAsync(
            reference,
            QuantEngine.fromModel(quantize(checkpoint, { weights: kind, groupSize: flags.group })),
            prompts,
            {
              steps: flags.steps,
              signal: ctx.signal,
              onProgress: (done, total) =>
                progress.update(k * total + done, flags.quant.length * total, `${kind} g${flags.group}`),
            },
          );
          rows.push({ weights: kind, groupSize: flags.group, ...report });
        }
      } finally {
        progress.stop();
      }
      if (flags.svg) {
        const model = label.replace(/^bundled:/, '').replace(/\.bin$/, ''); // "bundled:stories260K.bin"
        const chart = { model, steps: flags.steps, prompts: EVAL_PROMPTS.length, rows };
        await writeFileAtomic(resolve(ctx.cwd, flags.svg), new TextEncoder().encode(renderEvalSvg(chart)));
        if (!flags.json) ctx.stderr.write(`chart written to ${resolve(ctx.cwd, flags.svg)}\n`);
      }
      if (flags.json) {
        printJson(ctx, { model: label, prompts: EVAL_PROMPTS, steps: flags.steps, rows });
        return;
      }
      ctx.stdout.write(
        `${label}: ${EVAL_PROMPTS.length} prompts continued greedily by fp32 to ${flags.steps} positions\n\n`,
      );
      ctx.stdout.write(
        `${'weights'.padEnd(10)}${'positions'.padStart(10)}${'top-1 agree'.padStart(13)}${'mean KL'.padStart(10)}${'ppl fp32'.padStart(10)}${'ppl quant'.padStart(11)}\n`,
      );
      for (const r of rows) {
        ctx.stdout.write(
          `${`${r.weights} g${r.groupSize}`.padEnd(10)}${String(r.positions).padStart(10)}${`${(100 * r.top1Agreement).toFixed(1)} %`.padStart(13)}` +
            `${r.meanKL.toFixed(4).padStart(10)}${r.perplexity.reference.toFixed(3).padStart(10)}${r.perplexity.candidate.toFixed(3).padStart(11)}\n`,
        );
      }
    });
}
