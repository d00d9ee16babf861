/**
 * Resume, reconnect and timeouts against in-memory boards (`memoryBoard`: the TS stage behind a Link) —
 * the scenarios packages/firmware/ts/pipeline-faults.test.ts runs against the C boards, beside the code.
 */
import { generateText, QuantEngine, Sampler, splitSelections } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { type MemoryBoard, type MemoryBoardOptions, memoryBoard } from '../testing/memory-board.js';
import { qm, tokenizer } from '../testing/stories.test-helper.js';
import { prompt, tokensOf } from './generate.test-helper.js';
import { Pipeline, type PipelineOptions, pipelinePlan } from './pipeline.js';

const split = [2, 3];
const selections = splitSelections(qm.config, split, 1);

/** The unsplit run on the host: what every pipeline run below must give, token for token. */
const host = async (temperature: number, seed: number, steps: number, exp: 'platform' | 'spec') =>
  (
    await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp }),
      prompt,
      steps,
    })
  ).tokens;

/** Boards of the [2, 3] split, and a pipeline over them with `options` (`reconnect`: a new link to board i). */
function setUp(options: PipelineOptions & { reconnects?: boolean } = {}, board: MemoryBoardOptions[] = []) {
  const boards: MemoryBoard[] = selections.map((s, i) => memoryBoard(qm, s, { board: i, ...board[i] }));
  const { reconnects, ...rest } = options;
  const pipeline = Pipeline.connect(
    boards.map((b) => b.connect()),
    pipelinePlan(qm, selections),
    { ...rest, ...(reconnects ? { reconnect: async (i: number) => boards[i]!.connect() } : {}) },
  );
  return { boards, pipeline };
}

describe('Pipeline resume on in-memory boards', () => {
  for (const sampling of ['host', 'board'] as const)
    it(`a board reset mid-request (a new session: PEER_RESET) is reconnected and the stream re-prefills: the tokens equal the unsplit run (${sampling} sampling)`, async () => {
      let resetAt: number | undefined;
      const resumes: { stream: number; pos: number; code: string }[] = [];
      const { boards, pipeline } = setUp(
        {
          reconnects: true,
          onResume: (e) => resumes.push({ stream: e.stream, pos: e.pos, code: e.error.code }),
        },
        [
          {},
          {
            // the last board reboots while computing position 60: its answer never comes
            onMessage: (m, board) => {
              if (resetAt === undefined && m.kind === 'activation' && m.pos === 60) {
                resetAt = m.pos;
                board.reset();
              }
            },
          },
        ],
      );
      const got = await tokensOf(pipeline, 120, sampling);
      expect(resetAt).toBe(60);
      expect(resumes).toEqual([{ stream: 0, pos: 60, code: 'PEER_RESET' }]);
      expect(pipeline.resumes).toBe(1);
      // the replay ran positions 0…59 again on both boards, then the rest
      expect(boards[1]!.forwards).toBeGreaterThan(got.length + 60 - 1);
      expect(got).toEqual(await host(0.8, 5, 120, sampling === 'board' ? 'spec' : 'platform'));
      await pipeline.close();
    });

  it('a link dropped between positions (PORT_DISCONNECTED) is reconnected via `reconnect`; the tokens equal the unsplit run', async () => {
    const resumes: string[] = [];
    const { boards, pipeline } = setUp({ reconnects: true, onResume: (e) => resumes.push(e.error.code) });
    const links = boards.map((b) => b.link);
    const got = await tokensOf(pipeline, 80, 'host', 7, (n) => {
      if (n === 25) boards[0]!.dropLink();
    });
    expect(resumes).toEqual(['PORT_DISCONNECTED']);
    expect(boards[0]!.link).not.toBe(links[0]); // a new link to board 0…
    expect(boards[1]!.link).toBe(links[1]); // …and board 1's kept
    expect(got).toEqual(await host(0.8, 7, 80, 'platform'));
    await pipeline.close();
  });

  it('a board that is not back at once: the resume retries until `reconnect` gives a link', async () => {
    const boards = selections.map((s, i) => memoryBoard(qm, s, { board: i }));
    let refused = 0;
    const pipeline = Pipeline.connect(
      boards.map((b) => b.connect()),
      pipelinePlan(qm, selections),
      {
        reconnect: async (i) => {
          if (refused < 2) {
            refused++;
            throw new TinypipeError('PORT_DISCONNECTED', `board ${i} is not back yet`);
          }
          return boards[i]!.connect();
        },
      },
    );
    const got = await tokensOf(pipeline, 60, 'host', 3, (n) => {
      if (n === 20) boards[1]!.reset();
    });
    expect(refused).toBe(2);
    expect(pipeline.resumes).toBe(1);
    expect(got).toEqual(await host(0.8, 3, 60, 'platform'));
    await pipeline.close();
  });

  it('without `reconnect`, a board reset fails the generation with PEER_RESET naming the board (no hang)', async () => {
    const { boards, pipeline } = setUp();
    const outcome = await tokensOf(pipeline, 80, 'host', 5, (n) => {
      if (n === 10) boards[1]!.reset();
    }).then(
      () => ({ code: 'finished' }),
      (e: unknown) => e,
    );
    expect(outcome).toMatchObject({ code: 'PEER_RESET', details: { board: 1 } });
    expect(pipeline.resumes).toBe(0);
  });

  it('a stalled last board: TIMEOUT naming board, stream and position; its late answer is dropped and the next run is exact', async () => {
    const { boards, pipeline } = setUp({ requestTimeoutMs: 200 });
    const outcome = await tokensOf(pipeline, 100, 'host', 1, (n) => {
      if (n === 10) boards[1]!.stall(); // hung firmware: its link still takes the request
    }).then(
      () => ({ code: 'finished' }) as Record<string, unknown>,
      (e: Record<string, unknown>) => e,
    );
    expect(outcome).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/^board 1 did not answer stream 0 at position 10 within 200 ms/),
      details: { board: 1, stream: 0, pos: 10, timeoutMs: 200 },
    });
    expect(pipeline.stats()[1]!.unsolicited).toBe(0);
    boards[1]!.wake(); // it answers the abandoned request: counted, dropped
    const deadline = performance.now() + 5000;
    while (pipeline.stats()[1]!.unsolicited === 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(pipeline.stats()[1]!.unsolicited).toBeGreaterThan(0);
    expect(await tokensOf(pipeline, 40, 'host', 9)).toEqual(await host(0.8, 9, 40, 'platform'));
    await pipeline.close();
  });

  it('a stalled board with `reconnect`: the TIMEOUT is recoverable, the stream re-prefills once the board answers again', async () => {
    const resumes: string[] = [];
    const { boards, pipeline } = setUp({
      requestTimeoutMs: 200,
      reconnects: true,
      onResume: (e) => resumes.push(e.error.code),
    });
    const got = await tokensOf(pipeline, 50, 'board', 4, (n) => {
      if (n === 15) {
        boards[0]!.stall();
        setTimeout(() => boards[0]!.wake(), 300);
      }
    });
    expect(resumes[0]).toBe('TIMEOUT');
    expect(pipeline.resumes).toBeGreaterThanOrEqual(1);
    expect(got).toEqual(await host(0.8, 4, 50, 'spec'));
    await pipeline.close();
  });
});
