/**
 * A synthetic model of stories15M's shape (dim 288, 6 layers, 32,000-token vocab) through the pipeline on
 * simulated boards, star and chain, split two to five ways: greedy and seeded top-p tokens sampled on the
 * boards must equal the unsplit host run exactly.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  generateText,
  QuantEngine,
  quantize,
  readTokenizer,
  Sampler,
  splitSelections,
  synthesize,
} from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import type { Link } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { chainOf, imagesOf, models, running } from './pipeline.test-helper.js';
import { spawnPtyBoard } from './pty-board.js';

describe('Synthetic 15M (dim 288, 6 layers, 32,000-token vocab) through the pipeline', () => {
  const synth = quantize(synthesize('15M', 1), { weights: 'q8' });
  const synthTokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tokenizer.bin'))), 32_000);
  const STEPS = 16;
  const samplings = [
    { temperature: 0, topp: 0.9, seed: 1 }, // greedy
    { temperature: 0.8, topp: 0.9, seed: 3 }, // seeded top-p
  ];
  let want: number[][] | undefined; // the unsplit host runs, computed once (about a second per token)
  const hostRuns = async () => {
    want ??= await Promise.all(
      samplings.map(
        async (s) =>
          (
            await generateText({
              engine: QuantEngine.fromModel(synth),
              tokenizer: synthTokenizer,
              sampler: new Sampler({ vocabSize: 32_000, ...s, exp: 'spec' }),
              prompt: '',
              steps: STEPS,
            })
          ).tokens,
      ),
    );
    return want;
  };
  const boardTokens = async (pipeline: Pipeline) => {
    const runs: number[][] = [];
    for (const sampling of samplings) {
      const got: number[] = [];
      for await (const t of pipeline.generate({
        tokenizer: synthTokenizer,
        sampling,
        prompt: '',
        steps: STEPS,
      }))
        got.push(t.token);
      runs.push(got);
    }
    return runs;
  };

  for (const split of [[6], [3, 3], [2, 2, 2], [1, 1, 2, 2], [1, 1, 1, 1, 2]]) {
    it(`${split.length} board(s) (${split.join('+')} layers), star and chain: greedy and top-p tokens equal the host run`, async () => {
      const expected = await hostRuns();
      const chain = await chainOf(synth, split, 'synth-chain');
      expect(await boardTokens(chain)).toEqual(expected);
      await chain.close();
      const images = imagesOf(synth, split, 'synth-star');
      const boards = await Promise.all(images.map((p, i) => spawnPtyBoard(p, { board: i })));
      running.push(...boards);
      const links: Link[] = await Promise.all(
        boards.map(async (b) => ReliableLink.connect(await openSerialPort(b.path))),
      );
      const star = Pipeline.connect(links, pipelinePlan(synth, splitSelections(synth.config, split, 1)));
      expect(await boardTokens(star)).toEqual(expected);
      await star.close();
      await Promise.all(boards.map((b) => b.kill()));
    }, 180_000);
  }
});
