import { basename, dirname, isAbsolute, relative, resolve } from 'node:path';
import { MODEL_SHAPES, type ModelConfig } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import {
  type BoardProfile,
  formatPlan,
  type Plan,
  type PlanRequest,
  planModel,
  renderPlanSvg,
} from '@tinypipe/partitioner';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { usageError } from '../io/errors.js';
import { loadModel, parseSynthSpec } from '../io/models.js';
import { enumFlag, uintFlag } from '../io/options.js';
import { resolveProfile } from '../io/profiles.js';

interface PlanFlags {
  model?: string;
  boards: string;
  quant: 'q4' | 'q8';
  group: number;
  objective: 'latency' | 'throughput';
  streams: number;
  seqLen?: number;
  kernel?: 'ansi' | 'optimized';
  kv?: 'fp32' | 'fp16' | 'int8' | 'auto';
  embedding: 'auto' | 'board' | 'host';
  splitClassifier: boolean;
  standalone?: boolean;
  out?: string;
  svg?: string;
  json?: boolean;
}

/**
 * `name,name,...`: built-in names or profile files (*.json: custom, or measured by tinypipe calibrate), or
 * `auto:NAME` (the fewest boards of that profile that fit).
 */
async function resolveBoards(
  ctx: CliContext,
  spec: string,
): Promise<{ boards: BoardProfile[]; auto: boolean }> {
  const auto = /^auto:(.+)$/.exec(spec);
  if (auto) return { boards: [await resolveProfile(ctx, auto[1]!)], auto: true };
  const boards: BoardProfile[] = [];
  for (const item of spec.split(',').map((s) => s.trim())) {
    if (!item) throw usageError(`--boards has an empty entry in "${spec}"`);
    boards.push(await resolveProfile(ctx, item));
  }
  return { boards, auto: false };
}

/** The model's shape without building weights for synthetic models (planning 110M needs no 440 MB). */
async function modelFor(
  ctx: CliContext,
  spec: string | undefined,
): Promise<{ name: string; source: string; config: ModelConfig }> {
  const synth = spec ? parseSynthSpec(spec) : undefined;
  if (synth)
    return { name: `stories${synth.shape}`, source: spec!, config: { ...MODEL_SHAPES[synth.shape] } };
  const { checkpoint, label } = await loadModel(ctx, spec);
  const source = spec ? resolve(ctx.cwd, spec) : label;
  return {
    name: basename(source.replace(/^bundled:/, '')).replace(/\.bin$/, ''),
    source,
    config: checkpoint.config,
  };
}

export function registerPlan(program: Command, ctx: CliContext): void {
  program
    .command('plan')
    .description('plan which layers go on which board (prints the plan; --out writes it for tinypipe build)')
    .option(
      '--model <path>',
      'llama2.c checkpoint or synth:15M|synth:42M|synth:110M (default: bundled stories260K)',
    )
    .requiredOption(
      '--boards <list>',
      'comma-separated board profiles in pipeline order (built-in names, or *.json: custom or measured by tinypipe calibrate), or auto:PROFILE for the fewest that fit',
    )
    .option('--quant <kind>', 'q4 or q8', enumFlag('--quant', ['q4', 'q8']), 'q4')
    .option('--group <n>', 'quantization group size', uintFlag('--group'), 32)
    .option(
      '--objective <o>',
      'latency (one stream) or throughput (k streams)',
      enumFlag('--objective', ['latency', 'throughput']),
      'throughput',
    )
    .option(
      '--streams <k>',
      'at most this many sequences in flight (KV caches per board): the plan takes the count that fits with the highest predicted tok/s, the fewest among equals',
      uintFlag('--streams'),
      1,
    )
    .option(
      '--seq-len <n>',
      'context length to provision (KV cache) and to predict at (attention and KV reads at seq_len / 2); default the model’s',
      uintFlag('--seq-len'),
    )
    .option(
      '--kernel <k>',
      'project every board with this kernel’s figure: ansi (portable C) or optimized (SIMD — a what-if where the firmware lacks it); default: the kernel each board’s firmware has',
      enumFlag('--kernel', ['ansi', 'optimized']),
    )
    .option(
      '--kv <format>',
      'the KV cache’s format (docs/numerics.md §6b): fp32 (the default: bit-exact with earlier images), fp16, int8, or auto (the most exact that fits)',
      enumFlag('--kv', ['fp32', 'fp16', 'int8', 'auto']),
    )
    .option(
      '--embedding <where>',
      'the embedding table on board 0 (board), on the host, which sends board 0 the embedded row (host), or auto: board 0 when that fits, else the host',
      enumFlag('--embedding', ['auto', 'board', 'host']),
      'auto',
    )
    .option('--no-split-classifier', 'keep the whole classifier on the last board')
    .option(
      '--standalone',
      'plan a standalone ring (docs/protocol.md §4.5, tinypipe build --standalone): the last board samples, so it holds the whole classifier; board 0 the embedding',
    )
    .option('--out <file>', 'write the plan JSON here')
    .option(
      '--svg <file>',
      'draw the plan as an SVG picture: per board its layers, flash, PSRAM and time per token',
    )
    .option('--json', 'print the plan as JSON')
    .action(async (flags: PlanFlags) => {
      if (flags.streams < 1) throw usageError('--streams must be at least 1');
      if (flags.group < 1) throw usageError('--group must be at least 1');
      const m = await modelFor(ctx, flags.model);
      if (flags.seqLen !== undefined) {
        if (flags.seqLen < 1 || flags.seqLen > m.config.seqLen)
          throw usageError(`--seq-len must be between 1 and the model's ${m.config.seqLen}`);
        m.config = { ...m.config, seqLen: flags.seqLen };
      }
      const { boards, auto } = await resolveBoards(ctx, flags.boards);
      const request = (list: BoardProfile[]): PlanRequest => ({
        model: { ...m, kind: flags.quant, groupSize: flags.group },
        boards: list,
        objective: flags.objective,
        streams: flags.streams,
        ...(flags.kernel ? { kernel: flags.kernel } : {}),
        // a ring keeps the classifier whole (the planner says why it refuses a split one)
        ...(flags.standalone ? { standalone: true } : { splitClassifier: flags.splitClassifier }),
        ...(flags.kv ? { kv: flags.kv } : {}),
        embedding: flags.embedding,
      });
      let plan: Plan | undefined;
      if (auto) {
        const max = Math.min(8, m.config.nLayers + 1);
        let last: unknown;
        for (let n = 1; n <= max && !plan; n++) {
          try {
            plan = planModel(request(Array.from({ length: n }, () => boards[0]!)));
          } catch (e) {
            last = e;
          }
        }
        if (!plan) throw last;
      } else plan = planModel(request(boards));
      if (flags.out) {
        const outPath = resolve(ctx.cwd, flags.out);
        // build reads a model path only inside the plan's folder (PATH_OUTSIDE): write it relative to it
        const rel = isAbsolute(plan.model.source) ? relative(dirname(outPath), plan.model.source) : '';
        const written =
          rel && !rel.startsWith('..') && !isAbsolute(rel)
            ? { ...plan, model: { ...plan.model, source: rel } }
            : plan;
        await writeFileAtomic(outPath, new TextEncoder().encode(`${JSON.stringify(written, null, 2)}\n`));
      }
      if (flags.svg)
        await writeFileAtomic(resolve(ctx.cwd, flags.svg), new TextEncoder().encode(renderPlanSvg(plan)));
      if (flags.json) printJson(ctx, plan);
      else
        ctx.stdout.write(
          `${formatPlan(plan)}\n${plan.standalone ? `standalone ring: board 0 tells the stories, the last board samples with the whole classifier and sends each token back to board 0\n` : ''}${flags.out ? `plan written to ${resolve(ctx.cwd, flags.out)}\n` : ''}${flags.svg ? `picture written to ${resolve(ctx.cwd, flags.svg)}\n` : ''}`,
        );
    });
}
