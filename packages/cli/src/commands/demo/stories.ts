/** Step 4 of the demo: generate the stories through the pipeline, and again on the host, unsplit. */
import { generateText, QuantEngine, Sampler, SlicedSampler } from '@tinypipe/core';
import type { Pipeline } from '@tinypipe/pipeline';
import type { CliContext } from '../../io/context.js';
import type { DemoRun } from './flags.js';
import { recordHostHashes } from './hashes.js';
import type { DemoModel } from './prepare.js';

/** One story: the seed of its sampler and what came out. */
export interface Story {
  readonly seed: number;
  readonly tokens: number[];
  readonly text: string;
}

/** The sampler of every story, on the boards and on the host: llama2.c's, temperature 0.8, top-p 0.9. */
const TEMPERATURE = 0.8;
const TOPP = 0.9;
const storySampler = (vocabSize: number, seed: number) =>
  new Sampler({ vocabSize, temperature: TEMPERATURE, topp: TOPP, seed, exp: 'spec' });

/**
 * Generates `flags.streams` stories at once through the pipeline (story k seeded `flags.seed + k`), the first
 * one written to stdout as it comes unless `--json`. Resolves to the stories and the seconds they took.
 */
export async function streamStories(
  ctx: CliContext,
  flags: DemoRun,
  model: DemoModel,
  pipeline: Pipeline,
): Promise<{ stories: Story[]; seconds: number }> {
  const started = performance.now();
  const stories = await Promise.all(
    Array.from({ length: flags.streams }, async (_, k) => {
      const seed = flags.seed + k;
      const tokens: number[] = [];
      let text = '';
      // the last board samples (llama2.c's sampler in C); the host only relays
      for await (const t of pipeline.generate({
        tokenizer: model.tokenizer,
        sampling: { temperature: TEMPERATURE, topp: TOPP, seed },
        sampler: storySampler(model.config.vocabSize, seed),
        prompt: flags.prompt,
        steps: flags.steps,
        signal: ctx.signal,
      })) {
        tokens.push(t.token);
        text += t.piece;
        if (k === 0 && !flags.json) ctx.stdout.write(t.piece);
      }
      return { seed, tokens, text };
    }),
  );
  return { stories, seconds: (performance.now() - started) / 1000 };
}

/** A story run again on the host: whether its tokens are the pipeline's, and its layer hashes by position. */
export interface HostCheck {
  readonly identical: boolean;
  /** With `--hashes`: each position's layer hashes (docs/numerics.md §9). */
  readonly hashes: Map<number, number[]> | undefined;
}

/**
 * Generates each story again on the host with the unsplit model: the same quantized weights and the plan's
 * KV cache format (the numerics the boards run), recording its layer hashes with `--hashes`. A plan that
 * splits the classifier samples with the sliced sampler (docs/numerics.md §10b), the unsplit definition of
 * what its boards draw; otherwise with llama2.c's.
 */
export function matchesHost(
  ctx: CliContext,
  flags: DemoRun,
  model: DemoModel,
  stories: readonly Story[],
): Promise<HostCheck[]> {
  const sliced = model.plan.boards.filter((b) => b.vocab !== null).length > 1;
  return Promise.all(
    stories.map(async (s) => {
      const engine = QuantEngine.fromModel(model.qm, {
        kv: model.plan.kv,
        ...(flags.hashes ? { layerHashes: true } : {}),
      });
      const hashes = flags.hashes ? recordHostHashes(engine) : undefined;
      const host = await generateText({
        engine,
        tokenizer: model.tokenizer,
        sampler: sliced
          ? new SlicedSampler({
              vocabSize: model.config.vocabSize,
              temperature: TEMPERATURE,
              topp: TOPP,
              seed: s.seed,
            })
          : storySampler(model.config.vocabSize, s.seed),
        prompt: flags.prompt,
        steps: flags.steps,
        signal: ctx.signal,
      });
      const identical =
        host.tokens.length === s.tokens.length && host.tokens.every((t, i) => t === s.tokens[i]);
      return { identical, hashes };
    }),
  );
}
