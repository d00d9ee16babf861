/**
 * A split classifier on the C boards (star): the classifier rows cut into vocab slices over the boards, which
 * sample with the host (histograms and draws, docs/numerics.md §10b) without shipping logits. The tokens must
 * equal the unsplit run with @tinypipe/core's SlicedSampler (stories260K, and a synthetic 15M whose slice
 * rounds must stay under 2 KB of line bytes a token).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildImage,
  generateText,
  QuantEngine,
  quantize,
  readTokenizer,
  SlicedSampler,
  splitSelections,
  synthesize,
} from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import type { Link } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { models, qm, running, tokenizer } from './pipeline.test-helper.js';
import { spawnPtyBoard } from './pty-board.js';

describe('A split classifier on the C boards (star): the slices sample with the host, no logits cross', () => {
  /** Star pipeline of C boards holding `split`'s layers and the classifier in `slices` slices. */
  async function slicedOf(model: typeof qm, split: number[], slices: number, tag: string) {
    const selections = splitSelections(model.config, split, slices);
    const boards = await Promise.all(
      selections.map((sel, i) => {
        const path = join(tmp, `${tag}-${split.join('_')}-s${slices}-${i}.img`);
        writeFileSync(path, buildImage(model, sel));
        return spawnPtyBoard(path, { board: i });
      }),
    );
    running.push(...boards);
    const links: Link[] = await Promise.all(
      boards.map(async (b) => ReliableLink.connect(await openSerialPort(b.path))),
    );
    return { boards, links, pipeline: Pipeline.connect(links, pipelinePlan(model, selections)) };
  }
  type Sampling = { temperature: number; topp: number; seed: number };
  const unsplit = async (
    model: typeof qm,
    tok: typeof tokenizer,
    s: Sampling,
    prompt: string,
    steps: number,
  ) =>
    (
      await generateText({
        engine: QuantEngine.fromModel(model),
        tokenizer: tok,
        sampler: new SlicedSampler({ vocabSize: model.config.vocabSize, ...s }),
        prompt,
        steps,
      })
    ).tokens;
  const tokensOf = async (p: Pipeline, tok: typeof tokenizer, s: Sampling, prompt: string, steps: number) => {
    const got: number[] = [];
    for await (const t of p.generate({ tokenizer: tok, sampling: s, prompt, steps })) got.push(t.token);
    return got;
  };
  const samplings: Sampling[] = [
    { temperature: 0, topp: 0.9, seed: 1 }, // greedy
    { temperature: 0.8, topp: 0.9, seed: 3 }, // seeded top-p 0.9
    { temperature: 1, topp: 1, seed: 4 }, // no top-p
  ];

  for (const [split, slices] of [
    [[2, 3], 2],
    [[1, 2, 2], 3],
  ] as const)
    it(`stories260K, ${split.join('+')} layers, ${slices} slices: greedy and seeded top-p equal the unsplit run`, async () => {
      const { pipeline } = await slicedOf(qm, [...split], slices, 'sliced');
      for (const s of samplings)
        expect(await tokensOf(pipeline, tokenizer, s, 'Once upon a time', 40)).toEqual(
          await unsplit(qm, tokenizer, s, 'Once upon a time', 40),
        );
      await pipeline.close();
    }, 120_000);

  it('synthetic 15M, 3+3 layers, 2 slices: the unsplit tokens, the slices answering in under 2 KB a token', async () => {
    const synth = quantize(synthesize('15M', 1), { weights: 'q8' });
    const synthTokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tokenizer.bin'))), 32_000);
    const STEPS = 6;
    for (const s of samplings.slice(0, 2)) {
      const { pipeline, links } = await slicedOf(synth, [3, 3], 2, `sliced-synth-${s.temperature}`);
      expect(await tokensOf(pipeline, synthTokenizer, s, '', STEPS)).toEqual(
        await unsplit(synth, synthTokenizer, s, '', STEPS),
      );
      // line bytes both ways over the host's links: frames, ACKs, the handshake and heartbeats included
      const wire = links.reduce((a, l) => a + l.stats().bytesSent + l.stats().bytesReceived, 0) / STEPS;
      // the layer traffic: the token in, the activation out of board 0 and into board 1, the final activation
      // out of board 1 and into board 0 (CLASSIFY), each a DATA frame with its ACK
      const frame = (payload: number) => payload + 38 + Math.ceil((payload + 16) / 254);
      const act = frame(5 + 4 * synth.config.dim);
      const layers = frame(9) + 4 * act;
      const slicesBytes = wire - layers;
      console.log(
        `C boards, synthetic 15M, ${s.temperature === 0 ? 'greedy' : 'top-p 0.9'}: ${wire.toFixed(0)} wire bytes per token, of which the slices' rounds ${slicesBytes.toFixed(0)}`,
      );
      expect(slicesBytes).toBeGreaterThan(0);
      expect(slicesBytes).toBeLessThan(2048);
      await pipeline.close();
    }
  }, 300_000);
});
