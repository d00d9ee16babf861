/**
 * Where models and tokenizers come from: a path, `synth:SHAPE[:SEED]` for a synthetic checkpoint of a
 * published shape, or (by default) the stories260K model of @tinypipe/models, checked by SHA-256.
 */
import { resolve } from 'node:path';
import {
  type Checkpoint,
  MODEL_SHAPES,
  type ModelShape,
  readCheckpoint,
  readTokenizer,
  synthesize,
  type Tokenizer,
} from '@tinypipe/core';
import { loadCheckpoint, readVerifiedFile } from '@tinypipe/core/node';
import { readBundledModel } from '@tinypipe/models';
import type { CliContext } from './context.js';
import { usageError } from './errors.js';

export interface LoadedModel {
  readonly checkpoint: Checkpoint;
  /** What the user named: a path, `synth:15M:1`, or `bundled:stories260K.bin`. */
  readonly label: string;
}

/** Parses `synth:15M` / `synth:15M:7` (seed defaults to 1); undefined when `spec` is not a synth spec. */
export function parseSynthSpec(spec: string): { shape: ModelShape; seed: number } | undefined {
  const m = /^synth:([^:]+)(?::(\d+))?$/.exec(spec);
  if (!m) return undefined;
  const shape = (Object.keys(MODEL_SHAPES) as ModelShape[]).find(
    (s) => s.toLowerCase() === m[1]!.toLowerCase(),
  );
  if (!shape) {
    throw usageError(
      `unknown synthetic shape ${JSON.stringify(m[1])}: use one of ${Object.keys(MODEL_SHAPES).join(', ')}`,
    );
  }
  return { shape, seed: m[2] === undefined ? 1 : Number(m[2]) };
}

export async function loadModel(ctx: CliContext, spec: string | undefined): Promise<LoadedModel> {
  if (spec === undefined) {
    return {
      checkpoint: readCheckpoint(await readBundledModel('stories260K.bin')),
      label: 'bundled:stories260K.bin',
    };
  }
  const synth = parseSynthSpec(spec);
  if (synth) return { checkpoint: synthesize(synth.shape, synth.seed), label: spec };
  return { checkpoint: await loadCheckpoint(resolve(ctx.cwd, spec)), label: spec };
}

/**
 * The tokenizer for a model: the given path, or the bundled one (@tinypipe/models) whose vocabulary
 * matches the model: tok512.bin for 512 tokens (or none given), tokenizer.bin for the 32000-token Llama 2 vocabulary.
 */
export async function loadTokenizer(
  ctx: CliContext,
  path: string | undefined,
  vocabSize: number | undefined,
): Promise<Tokenizer> {
  if (path !== undefined) return readTokenizer(await readVerifiedFile(resolve(ctx.cwd, path)), vocabSize);
  if (vocabSize === 512 || vocabSize === undefined)
    return readTokenizer(await readBundledModel('tok512.bin'), 512);
  if (vocabSize === 32000) return readTokenizer(await readBundledModel('tokenizer.bin'), vocabSize);
  throw usageError(
    `no bundled tokenizer has ${vocabSize} tokens; pass --tokenizer PATH (the tokenizer.bin trained with this model)`,
  );
}
