import { dirname, join, resolve } from 'node:path';
import { quantize } from '@tinypipe/core';
import { resolveInside } from '@tinypipe/core/node';
import { writeBuild } from '@tinypipe/flasher/node';
import { buildPlan, checkRingPlan, describeHolding, type Plan, parsePlan } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { readJsonFile } from '../io/json.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { floatFlag, uintFlag } from '../io/options.js';
import { createProgress } from '../io/progress.js';
import { type RingSettingFlags, ringBuildOptions, ringSettings, writeRingReadme } from './ring/settings.js';

/**
 * The model a plan names: `bundled:`/`synth:` as is, a path only inside the plan's folder (a plan is
 * data: it must not make us read any file). `--model` (the user's own word) overrides it.
 */
async function modelSpec(
  ctx: CliContext,
  plan: Plan,
  planPath: string,
  model?: string,
): Promise<string | undefined> {
  if (model !== undefined) return resolve(ctx.cwd, model);
  const source = plan.model.source;
  if (source.startsWith('bundled:')) return undefined;
  if (source.startsWith('synth:')) return source;
  return resolveInside(
    dirname(planPath),
    source,
    "the plan's model.source",
    'put the model in the plan’s folder (a relative path), or name it with tinypipe build --model PATH',
  );
}

interface BuildFlags extends RingSettingFlags {
  plan: string;
  out: string;
  model?: string;
  standalone?: boolean;
  tokenizer?: string;
  json?: boolean;
}

export function registerBuild(program: Command, ctx: CliContext): void {
  program
    .command('build')
    .description(
      'build every board of a plan: weight image, partitions.csv, partition-table.bin and manifest.json (and host.tpimg in board-0 when the plan keeps the embedding on the host)',
    )
    .requiredOption('--plan <file>', 'plan JSON from tinypipe plan --out')
    .requiredOption(
      '--out <dir>',
      'output folder (one board-N folder per board); replaced only once the whole build is written',
    )
    .option(
      '--model <path>',
      "the checkpoint (default: the plan's model.source, which must lie in the plan's folder)",
    )
    .option(
      '--standalone',
      "build for a standalone ring (docs/protocol.md §4.5; the plan's classifier whole on the last board, from tinypipe plan --standalone): the tokenizer in board 0's image, each board's ESP-IDF overlay sdkconfig.ring with board 0's story settings, and ring.md (what to build, the wiring, flashing)",
    )
    .option(
      '--tokenizer <path>',
      '--standalone: the tokenizer.bin for board 0 (default: the bundled one of the vocabulary)',
    )
    .option('--prompt <text>', "--standalone: board 0's default prompt", 'Once upon a time')
    .option(
      '--steps <n>',
      '--standalone: positions per story, the prompt included (default 256)',
      uintFlag('--steps'),
    )
    .option(
      '--temperature <t>',
      '--standalone: sampling temperature, 0 greedy (default 1)',
      floatFlag('--temperature'),
    )
    .option('--topp <p>', '--standalone: top-p (default 0.9)', floatFlag('--topp'))
    .option('--seed <n>', '--standalone: story n is seeded seed + n − 1 (default 1)', uintFlag('--seed'))
    .option(
      '--parallel <k>',
      "--standalone: stories at once, at most (default: the plan's streams)",
      uintFlag('--parallel'),
    )
    .option('--json', 'print a JSON summary')
    .action(async (flags: BuildFlags) => {
      const planPath = resolve(ctx.cwd, flags.plan);
      const json = await readJsonFile(planPath, 'PLAN_INVALID', 'the plan');
      const plan = parsePlan(json, flags.plan);
      if (flags.standalone) checkRingPlan(plan, flags.plan);
      const settings = flags.standalone ? ringSettings(flags, { parallel: plan.streams }) : undefined;
      const source = await modelSpec(ctx, plan, planPath, flags.model);
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
      const tokenizer = settings && (await loadTokenizer(ctx, flags.tokenizer, checkpoint.config.vocabSize));
      progress.phase(`building the images of ${plan.boards.length} board(s)`);
      const builds = buildPlan(plan, qm, settings && tokenizer ? ringBuildOptions(settings, tokenizer) : {});
      progress.stop();
      await writeBuild(out, builds, ctx.signal ? { signal: ctx.signal } : {});
      const ring = settings && (await writeRingReadme(out, plan, settings));
      for (const board of builds) {
        const dir = join(out, board.dir);
        summary.push({ dir, ...board.manifest });
        if (!flags.json)
          ctx.stdout.write(
            `board ${board.manifest.board} (${board.manifest.profile}): ${describeHolding(board.manifest, plan.model.config.vocabSize)}, ` +
              `${board.files.map((f) => `${f.name} ${f.bytes.length} B`).join(', ')} → ${dir}\n`,
          );
        if (!flags.json && board.manifest.host)
          ctx.stdout.write(
            `host: the embedding, ${join(dir, board.manifest.host.path)} (${board.manifest.host.bytes} B, not flashed): the host embeds each token with it\n`,
          );
      }
      if (ring && !flags.json)
        ctx.stdout.write(
          `ring: ${plan.boards.length} board(s), board 0 tells the stories with the tokenizer in its image; each board's ESP-IDF overlay is its sdkconfig.ring; what to build, the wiring and flashing: ${ring}\n`,
        );
      if (flags.json)
        printJson(ctx, { out, boards: summary, ...(ring ? { ring: { readme: ring, settings } } : {}) });
    });
}
