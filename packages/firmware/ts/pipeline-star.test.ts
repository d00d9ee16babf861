/**
 * The pipeline end to end on simulated boards, star topology (the host holds a link to every board): each
 * board a `tinypipe-board --pty` process holding its image of a split, reached over a real PTY (Node
 * serialport + ReliableLink), driven by @tinypipe/pipeline's Pipeline. Host-sampled (llama2.c sampler) and
 * board-sampled tokens must equal the unsplit host run exactly; two generations share the boards; a board
 * holding other layers than the plan is refused. Faults and resume are in pipeline-faults.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, generateText, QuantEngine, Sampler, splitSelections } from '@tinypipe/core';
import { Pipeline } from '@tinypipe/pipeline';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { host, pipelineOf, qm, running, stagesOf, tokenizer } from './pipeline.test-helper.js';
import { spawnPtyBoard } from './pty-board.js';

describe('Pipeline on simulated boards (star topology)', () => {
  for (const split of [[5], [2, 3], [1, 2, 2], [1, 1, 1, 2], [1, 1, 1, 1, 1]]) {
    it(`${split.length} board(s) (${split.join('+')} layers): greedy and seeded top-p tokens equal the host run`, async () => {
      const pipeline = await pipelineOf(split);
      expect(pipeline.streams).toBeGreaterThanOrEqual(2);
      for (const [temperature, seed] of [
        [0, 1],
        [0.8, 42],
      ] as const) {
        const want = await host(temperature, seed, 96);
        const got: number[] = [];
        for await (const t of pipeline.generate({
          tokenizer,
          sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed }),
          prompt: 'Once upon a time',
          steps: 96,
        }))
          got.push(t.token);
        expect(got).toEqual(want.tokens);
      }
      const seen = pipeline.stats();
      expect(seen.every((s) => s.messages > 0)).toBe(true);
      // each board's own account: every position it computed (as many as the host asked of it), timed
      const own = await pipeline.boardStats();
      expect(own.map((b) => [b.board, b.layers, b.forwards])).toEqual(
        seen.map((s, i) => [i, stagesOf(split)[i], s.messages]),
      );
      for (const b of own) {
        expect(b.computeMs).toBeGreaterThan(0);
        expect(b.msPerForward).toBeCloseTo(b.computeMs / b.forwards, 9);
        expect(b.bytesIn).toBeGreaterThan(0);
        expect(b.bytesOut).toBeGreaterThan(0);
      }
      expect(pipeline.tokensPerSecond).toBeGreaterThan(0);
      await pipeline.close();
    }, 120_000);
  }

  for (const split of [[5], [2, 3], [1, 1, 1, 1, 1]]) {
    it(`${split.length} board(s): the last board samples (one TOKEN back), the tokens equal the host's Sampler with the spec's exp`, async () => {
      const pipeline = await pipelineOf(split);
      expect(pipeline.samplesOnBoard).toBe(true);
      for (const [temperature, seed] of [
        [0, 1],
        [0.8, 42],
        [1, 7],
      ] as const) {
        const want = await host(temperature, seed, 120, 'spec');
        const got: number[] = [];
        for await (const t of pipeline.generate({
          tokenizer,
          sampling: { temperature, topp: temperature === 1 ? 0 : 0.9, seed },
          prompt: 'Once upon a time',
          steps: 120,
        }))
          got.push(t.token);
        if (temperature === 1) {
          // topp 0 samples from the whole distribution
          const whole = await generateText({
            engine: QuantEngine.fromModel(qm),
            tokenizer,
            sampler: new Sampler({ vocabSize: 512, temperature, topp: 0, seed, exp: 'spec' }),
            prompt: 'Once upon a time',
            steps: 120,
          });
          expect(got).toEqual(whole.tokens);
        } else expect(got).toEqual(want.tokens);
      }
      await pipeline.close();
    }, 120_000);
  }

  it('two generations at once share the boards, one stream each, and both equal their host runs', async () => {
    const pipeline = await pipelineOf([2, 3]);
    const run = async (seed: number) => {
      const got: number[] = [];
      for await (const t of pipeline.generate({
        tokenizer,
        sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed }),
        prompt: 'Once upon a time',
        steps: 64,
      }))
        got.push(t.token);
      return got;
    };
    const [a, b] = await Promise.all([run(7), run(8)]);
    expect(a).toEqual((await host(0.8, 7, 64)).tokens);
    expect(b).toEqual((await host(0.8, 8, 64)).tokens);
    await pipeline.close();
  }, 120_000);

  it('refuses a board that holds other layers than the plan says, naming it', async () => {
    const selections = splitSelections(qm.config, [2, 3], 1);
    const path = join(tmp, 'pipe-wrong.img');
    writeFileSync(path, buildImage(qm, selections[1]!));
    const board = await spawnPtyBoard(path);
    running.push(board);
    const link = await ReliableLink.connect(await openSerialPort(board.path));
    expect(() =>
      Pipeline.connect([link], {
        config: qm.config,
        fingerprint: qm.fingerprint,
        stages: [{ layers: [0, 5], embedding: true, vocab: [0, 512] }],
      }),
    ).toThrow(/board 0 holds layers \[2, 5\), the plan says \[0, 5\)/);
    await link.close();
  }, 60_000);
});
