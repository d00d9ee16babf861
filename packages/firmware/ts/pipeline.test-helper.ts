/**
 * Shared fixtures of the pipeline tests (pipeline-star, pipeline-chain, pipeline-faults, pipeline-15m,
 * pipeline-classifier .test.ts): stories260K quantized to q8 and its tokenizer, the unsplit host run the
 * tokens are compared against, and the builders of star and chain pipelines of `tinypipe-board --pty`
 * processes reached over real PTYs (Node serialport + ReliableLink). Importing this registers the hook that
 * kills, after the test file, every board pushed on `running`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, generateText, QuantEngine, Sampler, splitSelections } from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard, spawnPtyChain } from './pty-board.js';
import { models, qm, tokenizer } from './stories260k.test-helper.js';

export { models, qm, tokenizer };
export const running: PtyBoard[] = [];
afterAll(async () => {
  for (const b of running) b.process.kill('SIGCONT'); // a board a test stopped
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

/** A star pipeline of boards holding `split`'s layers (no classifier slices), one link each. */
export async function pipelineOf(split: number[]): Promise<Pipeline> {
  const selections = splitSelections(qm.config, split, 1);
  const links = await Promise.all(
    selections.map(async (sel, i) => {
      const path = join(tmp, `pipe-${split.join('_')}-${i}.img`);
      writeFileSync(path, buildImage(qm, sel));
      const board = await spawnPtyBoard(path, { board: i });
      running.push(board);
      return ReliableLink.connect(await openSerialPort(board.path), {
        expect: { fingerprint: qm.fingerprint },
      });
    }),
  );
  return Pipeline.connect(links, pipelinePlan(qm, selections));
}

/** The layer ranges `[from, to)` of a split. */
export const stagesOf = (split: number[]) =>
  split.map((n, i) => {
    const from = split.slice(0, i).reduce((a, b) => a + b, 0);
    return [from, from + n];
  });

/** The unsplit host run of stories260K from "Once upon a time". */
export const host = (
  temperature: number,
  seed: number,
  steps: number,
  exp: 'platform' | 'spec' = 'platform',
) =>
  generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp }),
    prompt: 'Once upon a time',
    steps,
  });

/** The images of a split of `model`, written to tmp. */
export function imagesOf(model: typeof qm, split: number[], tag: string): string[] {
  return splitSelections(model.config, split, 1).map((sel, i) => {
    const path = join(tmp, `${tag}-${split.join('_')}-${i}.img`);
    writeFileSync(path, buildImage(model, sel));
    return path;
  });
}

/** A chain of boards for `split`: the host holds links to the first board and to the last one's second port. */
export async function chainOf(model: typeof qm, split: number[], tag = 'chain'): Promise<Pipeline> {
  const boards = await spawnPtyChain(imagesOf(model, split, tag));
  running.push(...boards);
  const links = await Promise.all(
    [boards[0]!.path, boards.at(-1)!.outPath!].map(async (path) =>
      ReliableLink.connect(await openSerialPort(path), { expect: { fingerprint: model.fingerprint } }),
    ),
  );
  return Pipeline.connect(links, pipelinePlan(model, splitSelections(model.config, split, 1)), {
    topology: 'chain',
  });
}

/** The tokens of one generation from "Once upon a time", sampled on the boards or by the host. */
export async function tokensOf(
  pipeline: Pipeline,
  options: { temperature: number; seed: number; steps: number; onBoard: boolean },
): Promise<number[]> {
  const got: number[] = [];
  const { temperature, seed, steps, onBoard } = options;
  for await (const t of pipeline.generate({
    tokenizer,
    ...(onBoard
      ? { sampling: { temperature, topp: 0.9, seed } }
      : { sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed }) }),
    prompt: 'Once upon a time',
    steps,
  }))
    got.push(t.token);
  return got;
}
