/**
 * A classifier split over boards by vocabulary rows, sampling with the host without sending logits
 * (docs/numerics.md §10b, docs/protocol.md §5.3), against memory boards: the tokens equal the unsplit run
 * with the same sampler, and the link carries a few hundred bytes per token instead of the logits.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  generateText,
  QuantEngine,
  quantize,
  readTokenizer,
  SlicedSampler,
  splitSelections,
  synthesize,
} from '@tinypipe/core';
import { type Link, TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { memoryBoard } from '../testing/memory-board.js';
import { qm, tokenizer } from '../testing/stories.test-helper.js';
import { Pipeline, pipelinePlan } from './pipeline.js';

type Model = typeof qm;
type Sampling = { temperature: number; topp: number; seed: number };

const unsplit = async (model: Model, tok: typeof tokenizer, s: Sampling, prompt: string, steps: number) =>
  (
    await generateText({
      engine: QuantEngine.fromModel(model),
      tokenizer: tok,
      sampler: new SlicedSampler({ vocabSize: model.config.vocabSize, ...s }),
      prompt,
      steps,
    })
  ).tokens;

const links = new WeakMap<Pipeline, Link[]>();

function pipelineOf(model: Model, split: number[], slices: number) {
  const selections = splitSelections(model.config, split, slices);
  const boards = selections.map((sel, i) => memoryBoard(model, sel, { board: i }));
  const l = boards.map((b) => b.connect());
  const pipeline = Pipeline.connect(l, pipelinePlan(model, selections));
  links.set(pipeline, l);
  return pipeline;
}

async function tokensOf(
  pipeline: Pipeline,
  tok: typeof tokenizer,
  s: Sampling,
  prompt: string,
  steps: number,
) {
  const got: number[] = [];
  for await (const t of pipeline.generate({ tokenizer: tok, sampling: s, prompt, steps })) got.push(t.token);
  return got;
}

/**
 * Bytes on the wire both ways, summed over the host's links (a memory link counts payloads): each message
 * in a DATA frame (12-byte header, CRC-32C, two delimiters, COBS: one byte plus one per 254 —
 * docs/protocol.md §2–3) and the ACK frame answering it (19 bytes). An upper bound: ACKs can ride on DATA.
 */
function wireBytes(pipeline: Pipeline): number {
  let n = 0;
  for (const l of links.get(pipeline)!) {
    const s = l.stats();
    const payload = s.bytesSent + s.bytesReceived;
    const frames = s.framesSent + s.framesReceived;
    n += payload + frames * (19 + 19) + Math.ceil((payload + 16 * frames) / 254);
  }
  return n;
}

describe('split classifier (stories260K, memory boards): tokens equal the unsplit run', () => {
  const samplings: Sampling[] = [
    { temperature: 0, topp: 0.9, seed: 1 },
    { temperature: 0.8, topp: 0.9, seed: 3 },
    { temperature: 1, topp: 1, seed: 11 },
    { temperature: 1.2, topp: 0.5, seed: 12 },
  ];
  for (const [split, slices] of [
    [[2, 3], 2],
    [[1, 2, 2], 3],
    [[1, 2, 2], 2],
    [[5, 0], 2],
  ] as const)
    it(`${split.join('+')} layers, ${slices} slices`, async () => {
      const pipeline = pipelineOf(qm, [...split], slices);
      for (const s of samplings)
        expect(await tokensOf(pipeline, tokenizer, s, 'Once upon a time', 40)).toEqual(
          await unsplit(qm, tokenizer, s, 'Once upon a time', 40),
        );
      await pipeline.close();
    }, 60_000);

  it('a slice board reset mid-round (PEER_RESET) is reconnected; the replay redraws and the tokens equal the unsplit run', async () => {
    const selections = splitSelections(qm.config, [2, 3], 2);
    let resetAt: number | undefined;
    const boards = selections.map((sel, i) =>
      memoryBoard(qm, sel, {
        board: i,
        // board 0 holds layers and the first slice: it reboots during position 30's histogram round
        ...(i === 0
          ? {
              onMessage: (m, board) => {
                if (resetAt === undefined && m.kind === 'histogram-request' && m.pos === 30) {
                  resetAt = m.pos;
                  board.reset();
                }
              },
            }
          : {}),
      }),
    );
    const resumes: string[] = [];
    const pipeline = Pipeline.connect(
      boards.map((b) => b.connect()),
      pipelinePlan(qm, selections),
      { reconnect: async (i) => boards[i]!.connect(), onResume: (e) => resumes.push(e.error.code) },
    );
    const s = { temperature: 0.8, topp: 0.9, seed: 21 };
    const got = await tokensOf(pipeline, tokenizer, s, 'Once upon a time', 60);
    expect(resetAt).toBe(30);
    expect(resumes).toEqual(['PEER_RESET']);
    expect(got).toEqual(await unsplit(qm, tokenizer, s, 'Once upon a time', 60));
    await pipeline.close();
  });

  it('refuses what a split classifier cannot do: logits, host samplers, a chain', async () => {
    const pipeline = pipelineOf(qm, [2, 3], 2);
    await expect(pipeline.forward(0, 1, 0)).rejects.toThrow(/splits the classifier/);
    const run = async () => {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampler: new SlicedSampler({ vocabSize: 512, temperature: 1, topp: 0.9, seed: 1 }),
        prompt: '',
        steps: 3,
      }));
    };
    await expect(run()).rejects.toThrow(/give `sampling`/);
    await pipeline.close();
    const selections = splitSelections(qm.config, [2, 3], 2);
    const boards = selections.map((sel, i) => memoryBoard(qm, sel, { board: i }));
    const links = [boards[0]!.connect(), boards[1]!.connect()];
    expect(() => Pipeline.connect(links, pipelinePlan(qm, selections), { topology: 'chain' })).toThrow(
      TinypipeError,
    );
  });
});

describe('split classifier on synthetic 15M (32,000-token vocab)', () => {
  const synth = quantize(synthesize('15M', 1), { weights: 'q8' });
  const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
  const synthTokenizer = readTokenizer(new Uint8Array(readFileSync(repo('models/tokenizer.bin'))), 32_000);
  const STEPS = 4;

  for (const s of [
    { temperature: 0, topp: 0.9, seed: 1 },
    { temperature: 0.8, topp: 0.9, seed: 3 },
  ])
    it(`${s.temperature === 0 ? 'greedy' : 'top-p 0.9'}: the unsplit tokens, the classifier's answers under 2 KB per token`, async () => {
      const want = await unsplit(synth, synthTokenizer, s, '', STEPS);
      const split = pipelineOf(synth, [3, 3], 2);
      expect(await tokensOf(split, synthTokenizer, s, '', STEPS)).toEqual(want);
      // the same layers with the whole classifier on the last board: one TOKEN back per position
      const whole = pipelineOf(synth, [3, 3], 1);
      await tokensOf(whole, synthTokenizer, { ...s }, '', STEPS);
      const perToken = (p: Pipeline) => wireBytes(p) / STEPS;
      const overhead = perToken(split) - perToken(whole);
      // of it, the final activation's two hops (last board → host → the other slice) in place of a TOKEN
      const wire = (payload: number) => payload + 38 + Math.ceil((payload + 16) / 254);
      const activation = 2 * wire(5 + 4 * synth.config.dim) - wire(9);
      const results = overhead - activation;
      console.log(
        `synthetic 15M, ${s.temperature === 0 ? 'greedy' : 'top-p 0.9'}, 3+3 layers, 2 slices: wire bytes per token ${perToken(split).toFixed(0)} (whole classifier on the last board: ${perToken(whole).toFixed(0)}); the split adds ${overhead.toFixed(0)}: the final activation's extra hops ${activation}, the slices' answers and the host's requests ${results.toFixed(0)}`,
      );
      expect(results).toBeGreaterThan(0);
      expect(results).toBeLessThan(2048);
      await split.close();
      await whole.close();
    }, 300_000);
});
