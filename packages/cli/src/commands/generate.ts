import {
  type Checkpoint,
  Fp32Engine,
  generate,
  hashHex,
  type LogitsEngine,
  preparePrompt,
  QuantEngine,
  quantize,
  Sampler,
  validateSamplerOptions,
  validateSteps,
} from '@tinypipe/core';
import { KV_FORMATS, type KvFormat, TinypipeError } from '@tinypipe/protocol';
import type { Command } from 'commander';
import { type CliContext, printJson } from '../io/context.js';
import { loadModel, loadTokenizer } from '../io/models.js';
import { enumFlag, floatFlag, intFlag, intListFlag, uintFlag } from '../io/options.js';
import { createProgress } from '../io/progress.js';

interface GenerateFlags {
  model?: string;
  tokenizer?: string;
  prompt: string;
  steps: number;
  temperature: number;
  topp: number;
  seed?: number;
  quant?: 'q4' | 'q8';
  kv?: KvFormat;
  group: number;
  split?: number[];
  json?: boolean;
}

/** The engine the flags ask for, plus what `--json` reports about it. */
interface EngineChoice {
  engine: LogitsEngine;
  describe: Record<string, unknown>;
  /** Per-token layer hashes (hex), when the engine produces them. */
  layerHashes?: () => string[];
}

function chooseEngine(checkpoint: Checkpoint, flags: GenerateFlags): EngineChoice {
  if (flags.quant === undefined) {
    if (flags.split || flags.kv)
      throw new TinypipeError(
        'USAGE',
        `${flags.split ? '--split' : '--kv'} needs --quant q4 or --quant q8 (stages run the quantized engine)`,
      );
    return { engine: new Fp32Engine(checkpoint), describe: { engine: 'fp32' } };
  }
  const qm = quantize(checkpoint, { weights: flags.quant, groupSize: flags.group });
  const split = flags.split ?? [checkpoint.config.nLayers];
  const kv = flags.kv ?? 'fp32';
  const engine = QuantEngine.fromModel(qm, { split, layerHashes: flags.json === true, kv });
  return {
    engine,
    describe: { engine: `quant-${flags.quant}`, groupSize: flags.group, split, kv },
    layerHashes: flags.json ? () => engine.lastLayerHashes().map(hashHex) : undefined,
  };
}

export function registerGenerate(program: Command, ctx: CliContext): void {
  program
    .command('generate')
    .description('generate text, streaming, with the fp32 engine or (with --quant) the quantized one')
    .option(
      '--model <path>',
      'llama2.c checkpoint, or synth:260K|15M|42M|110M[:seed] (default: bundled stories260K)',
    )
    .option('--tokenizer <path>', 'tokenizer.bin (default: the bundled one matching the model vocabulary)')
    .option('--prompt <text>', 'prompt text', '')
    .option(
      '--steps <n>',
      'positions to run, prompt included (capped at the model seq_len)',
      intFlag('--steps'),
      256,
    )
    .option('--temperature <t>', '0 = greedy; higher = more random', floatFlag('--temperature'), 1.0)
    .option(
      '--topp <p>',
      'nucleus sampling threshold in [0, 1]; 0 or 1 disables it',
      floatFlag('--topp'),
      0.9,
    )
    .option('--seed <n>', 'sampler seed (default: the current time, printed)', uintFlag('--seed'))
    .option(
      '--quant <kind>',
      'run the quantized engine: q4 or q8 (docs/numerics.md)',
      enumFlag('--quant', ['q4', 'q8']),
    )
    .option('--group <n>', 'quantization group size (with --quant)', uintFlag('--group'), 32)
    .option(
      '--kv <format>',
      'KV cache format with --quant: fp32 (default), fp16 or int8 (docs/numerics.md §6b)',
      enumFlag('--kv', KV_FORMATS),
    )
    .option(
      '--split <list>',
      'layers per stage, e.g. 2,3 (with --quant): runs the stages in-process',
      intListFlag('--split'),
    )
    .option('--json', 'print one JSON object instead of streaming text')
    .action(async (flags: GenerateFlags) => {
      const seed = flags.seed ?? Math.floor(Date.now() / 1000);
      // check every flag before loading anything
      validateSteps(flags.steps);
      validateSamplerOptions({ vocabSize: 1, temperature: flags.temperature, topp: flags.topp, seed });

      const { checkpoint, label } = await loadModel(ctx, flags.model);
      const tokenizer = await loadTokenizer(ctx, flags.tokenizer, checkpoint.config.vocabSize);
      const choice = chooseEngine(checkpoint, flags);
      const sampler = new Sampler({
        vocabSize: checkpoint.config.vocabSize,
        temperature: flags.temperature,
        topp: flags.topp,
        seed,
      });

      const options = {
        engine: choice.engine,
        tokenizer,
        sampler,
        prompt: flags.prompt,
        steps: flags.steps,
        signal: ctx.signal,
      };
      preparePrompt(options); // prompt errors before any output
      if (!flags.json) ctx.stderr.write(`seed: ${seed}\n`);
      const tokens: number[] = [];
      const layerHashes: string[][] = [];
      let text = '';
      const started = performance.now();
      let first = 0;
      // the text streams to stdout; with --json a bar on a terminal says how far it is
      const progress = flags.json ? createProgress(ctx, 'generate', { json: true }) : undefined;
      try {
        for await (const item of generate(options)) {
          if (tokens.length === 0) first = performance.now();
          tokens.push(item.token);
          text += item.piece;
          if (choice.layerHashes) layerHashes.push(choice.layerHashes());
          if (!flags.json) ctx.stdout.write(item.piece);
          progress?.update(item.pos + 1, Math.min(flags.steps, checkpoint.config.seqLen), 'positions');
        }
      } finally {
        progress?.stop();
      }
      const end = performance.now();
      const tokensPerSecond = tokens.length > 1 ? ((tokens.length - 1) * 1000) / (end - first) : 0;
      if (!flags.json) {
        ctx.stdout.write('\n');
        ctx.stderr.write(`achieved tok/s: ${tokensPerSecond.toFixed(1)}\n`);
        return;
      }
      printJson(ctx, {
        model: label,
        ...choice.describe,
        prompt: flags.prompt,
        temperature: flags.temperature,
        topp: flags.topp,
        seed,
        steps: flags.steps,
        tokens,
        text,
        elapsedMs: end - started,
        tokensPerSecond,
        ...(choice.layerHashes ? { layerHashes } : {}),
      });
    });
}
