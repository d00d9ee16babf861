import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { quantize, TinypipeError } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import { buildPlan, describeHolding, parsePlan } from '@tinypipe/partitioner';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { readJsonFile } from '../io/json.js';
import { loadModel } from '../io/models.js';
import { createProgress } from '../io/progress.js';

export function registerBuild(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description(
      'build every board of a plan: weight image, partitions.csv, partition-table.bin and manifest.json',
    )
    .requiredOption('--plan <file>', 'plan JSON from tinypipe plan --out')
    .requiredOption('--out <dir>', 'output folder (one board-N folder per board)')
    .option('--json', 'print a JSON summary')
    .action(async (flags: { plan: string; out: string; json?: boolean }) => {
      const planPath = resolve(ctx.cwd, flags.plan);
      const json = await readJsonFile(planPath, 'PLAN_INVALID', 'the plan');
      const plan = parsePlan(json, flags.plan);
      const source = plan.model.source.startsWith('bundled:') ? undefined : plan.model.source;
      const progress = createProgress(ctx, 'build', { json: flags.json });
      progress.phase(`loading ${plan.model.source}`);
      const { checkpoint } = await loadModel(ctx, source);
      if (checkpoint.config.seqLen < plan.model.config.seqLen)
        throw new TinypipeError(
          'PLAN_INVALID',
          `the plan provisions seq_len ${plan.model.config.seqLen}; the model has ${checkpoint.config.seqLen}`,
        );
      progress.phase(`quantizing to ${plan.model.kind} (group ${plan.model.groupSize})`);
      const qm = quantize(
        { ...checkpoint, config: { ...checkpoint.config, seqLen: plan.model.config.seqLen } },
        { weights: plan.model.kind, groupSize: plan.model.groupSize },
      );
      const out = resolve(ctx.cwd, flags.out);
      const summary = [];
      progress.phase(`building the images of ${plan.boards.length} board(s)`);
      const builds = buildPlan(plan, qm);
      progress.stop();
      for (const board of builds) {
        ctx.signal?.throwIfAborted();
        const dir = join(out, board.dir);
        await mkdir(dir, { recursive: true });
        for (const f of board.files) await writeFileAtomic(join(dir, f.name), f.bytes);
        await writeFileAtomic(
          join(dir, 'manifest.json'),
          new TextEncoder().encode(`${JSON.stringify(board.manifest, null, 2)}\n`),
        );
        summary.push({ dir, ...board.manifest });
        if (!flags.json)
          ctx.stdout.write(
            `board ${board.manifest.board} (${board.manifest.profile}): ${describeHolding(board.manifest, plan.model.config.vocabSize)}, ` +
              `${board.files.map((f) => `${f.name} ${f.bytes.length} B`).join(', ')} → ${dir}\n`,
          );
      }
      if (flags.json) printJson(ctx, { out, boards: summary });
    });
}
