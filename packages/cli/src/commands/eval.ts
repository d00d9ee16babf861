import { resolve } from 'node:path';
import {
  type ComparePair,
  type EvaluateReport,
  evaluateEnginesAsync,
  Fp32Engine,
  type LogitsEngine,
  QuantEngine,
  quantize,
} from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import { KV_FORMATS, type KvFormat } from '@tinypipe/protocol';
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
  kv: KvFormat[];
  group: number;
  steps: number;
  json?: boolean;
  svg?: string;
}

/** One KV format's figures: against fp32 weights, and against the same weights with an fp32 KV cache. */
interface KvRow {
  weights: 'q4' | 'q8';
  groupSize: number;
  kv: KvFormat;
  againstFp32: EvaluateReport;
  againstFp32Kv: EvaluateReport;
}

const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

export function registerEval(program: Command, ctx: CliContext): void {
  program
    .command('eval')
    .description(
      'quality of quantized weights (and KV cache formats) vs fp32: top-1 agreement, mean KL, perplexity',
    )
    .option('--model <path>', 'llama2.c checkpoint or synth:SHAPE[:seed] (default: bundled stories260K)')
    .option('--tokenizer <path>', 'tokenizer.bin (default: the bundled one matching the model)')
    .requiredOption(
      '--quant <kind>',
      'q4 or q8 (repeat the flag for both)',
      (v: string, prev: ('q4' | 'q8')[] = []) => [...prev, enumFlag('--quant', ['q4', 'q8'])(v)],
    )
    .option(
      '--kv <format>',
      'also a KV cache of this format (fp16 or int8; repeat for both) against the same weights with an fp32 KV cache (docs/numerics.md §6b)',
      (v: string, prev: KvFormat[] = []) => [...prev, enumFlag('--kv', KV_FORMATS)(v)],
      [],
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
      const kvs = [...new Set(flags.kv)].filter((kv) => kv !== 'fp32');
      const progress = createProgress(ctx, 'eval', { json: flags.json });
      const rows = [];
      const kvRows: KvRow[] = [];
      try {
        for (const [k, kind] of flags.quant.entries()) {
          const qm = quantize(checkpoint, { weights: kind, groupSize: flags.group });
          // one text (fp32's greedy continuation) for every comparison: fp32, the quantized engine with
          // an fp32 KV cache, then one per KV format, each compared with the first two
          const engines: LogitsEngine[] = [
            reference,
            QuantEngine.fromModel(qm),
            ...kvs.map((kv) => QuantEngine.fromModel(qm, { kv })),
          ];
          const pairs: ComparePair[] = [
            { reference: 0, candidate: 1 },
            ...kvs.flatMap((_, i) => [
              { reference: 0, candidate: 2 + i },
              { reference: 1, candidate: 2 + i },
            ]),
          ];
          const [quant, ...byKv] = await evaluateEnginesAsync(engines, pairs, prompts, {
            steps: flags.steps,
            signal: ctx.signal,
            onProgress: (done, total) =>
              progress.update(k * total + done, flags.quant.length * total, `${kind} g${flags.group}`),
          });
          rows.push({ weights: kind, groupSize: flags.group, ...quant! });
          for (const [i, kv] of kvs.entries())
            kvRows.push({
              weights: kind,
              groupSize: flags.group,
              kv,
              againstFp32: byKv[2 * i]!,
              againstFp32Kv: byKv[2 * i + 1]!,
            });
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
        printJson(ctx, {
          model: label,
          prompts: EVAL_PROMPTS,
          steps: flags.steps,
          rows,
          ...(kvs.length ? { kv: kvRows } : {}),
        });
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
          `${`${r.weights} g${r.groupSize}`.padEnd(10)}${String(r.positions).padStart(10)}${pct(r.top1Agreement).padStart(13)}` +
            `${r.meanKL.toFixed(4).padStart(10)}${r.perplexity.reference.toFixed(3).padStart(10)}${r.perplexity.candidate.toFixed(3).padStart(11)}\n`,
        );
      }
      if (kvRows.length === 0) return;
      ctx.stdout.write(
        '\nKV cache formats, against fp32 weights and against the same weights with an fp32 KV cache:\n\n' +
          `${'weights'.padEnd(10)}${'kv'.padEnd(6)}${'top-1 vs fp32'.padStart(15)}${'KL vs fp32'.padStart(12)}` +
          `${'top-1 vs fp32 KV'.padStart(18)}${'KL vs fp32 KV'.padStart(15)}${'ppl fp32 KV'.padStart(13)}${'ppl kv'.padStart(10)}\n`,
      );
      for (const r of kvRows) {
        const a = r.againstFp32;
        const b = r.againstFp32Kv;
        ctx.stdout.write(
          `${`${r.weights} g${r.groupSize}`.padEnd(10)}${r.kv.padEnd(6)}${pct(a.top1Agreement).padStart(15)}${a.meanKL.toFixed(4).padStart(12)}` +
            `${pct(b.top1Agreement).padStart(18)}${b.meanKL.toFixed(5).padStart(15)}${b.perplexity.reference.toFixed(3).padStart(13)}${b.perplexity.candidate.toFixed(3).padStart(10)}\n`,
        );
      }
    });
}
