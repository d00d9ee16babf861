/**
 * `Pipeline.fromPlan`: the partitioner's plan run on in-memory boards — the stages, the model and build
 * checks, and request timeouts derived from the plan's prediction.
 */
import { generateText, QuantEngine, Sampler } from '@tinypipe/core';
import type { Plan } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { planBoards, qm, tokenizer, twoBoardPlan } from '../testing/stories.test-helper.js';
import { MIN_REQUEST_TIMEOUT_MS, planRequestTimeouts, REQUEST_TIMEOUT_FACTOR } from './from-plan.js';
import { Pipeline } from './pipeline.js';

const plan = twoBoardPlan();
const BUILD = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);

/** A plan whose boards are predicted to take `positionMs` each per position (compute + link out). */
const predicting = (positionMs: readonly number[]): Plan => ({
  ...plan,
  boards: plan.boards.map((b, i) => ({
    ...b,
    predicted: { ...b.predicted, layersMs: positionMs[i]! - 1, classifierMs: 0, linkOutMs: 1, periodMs: 1 },
  })),
});

describe('planRequestTimeouts', () => {
  it('star: per board 20 × its predicted time per position × the streams that can queue, at least 10 s', () => {
    const p = predicting([400, 10]);
    expect(planRequestTimeouts(p, 'star', 2)).toEqual([
      REQUEST_TIMEOUT_FACTOR * 400 * 2,
      MIN_REQUEST_TIMEOUT_MS, // 20 × 10 × 2 = 400 ms is under the floor
    ]);
    expect(planRequestTimeouts(p, 'star', 3)).toEqual([
      REQUEST_TIMEOUT_FACTOR * 400 * 3,
      MIN_REQUEST_TIMEOUT_MS,
    ]);
    expect(planRequestTimeouts(p, 'star', 1)).toEqual([MIN_REQUEST_TIMEOUT_MS, MIN_REQUEST_TIMEOUT_MS]); // 8 s
  });

  it('chain: the answer crosses every board, so both links wait for the sum', () => {
    expect(planRequestTimeouts(predicting([300, 200]), 'chain', 3)).toEqual([
      REQUEST_TIMEOUT_FACTOR * 500 * 3,
      REQUEST_TIMEOUT_FACTOR * 500 * 3,
    ]);
  });

  it('a board whose period exceeds its compute and hop (its link is the bottleneck) is timed by its period', () => {
    const p: Plan = {
      ...plan,
      boards: plan.boards.map((b) => ({
        ...b,
        predicted: { ...b.predicted, layersMs: 10, classifierMs: 0, linkOutMs: 5, periodMs: 800 },
      })),
    };
    expect(planRequestTimeouts(p, 'star', 1)).toEqual([16_000, 16_000]); // 20 × 800, not 20 × 15
  });
});

describe('Pipeline.fromPlan', () => {
  it("runs the partitioner's plan on its boards: the tokens of the unsplit run", async () => {
    const boards = planBoards(plan);
    const pipeline = Pipeline.fromPlan(
      plan,
      boards.map((b) => b.connect()),
      { fingerprint: qm.fingerprint },
    );
    const got: number[] = [];
    for await (const t of pipeline.generate({
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 3 }),
      prompt: 'Once upon a time',
      steps: 40,
    }))
      got.push(t.token);
    await pipeline.close();
    const host = await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 3 }),
      prompt: 'Once upon a time',
      steps: 40,
    });
    expect(got).toEqual(host.tokens);
    expect(boards.every((b) => b.forwards > 0)).toBe(true);
  });

  it('checks the boards against the fingerprint and build given (hex, as in a manifest, or bytes)', async () => {
    const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    const links = () => planBoards(plan, BUILD).map((b) => b.connect());
    const ok = Pipeline.fromPlan(plan, links(), { fingerprint: hex(qm.fingerprint), build: hex(BUILD) });
    await ok.close();
    expect(
      await errorCodeOf(() =>
        Pipeline.fromPlan(plan, links(), { fingerprint: qm.fingerprint, build: '0102' }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(
      await errorCodeOf(() =>
        Pipeline.fromPlan(plan, links(), {
          fingerprint: qm.fingerprint,
          build: Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9),
        }),
      ),
    ).toBe('MIXED_BUILD');
    expect(
      await errorCodeOf(() => Pipeline.fromPlan(plan, links(), { fingerprint: new Uint8Array(32).fill(7) })),
    ).toBe('WRONG_MODEL');
    // boards of another split than the plan's
    const other = twoBoardPlan('latency');
    expect(other.boards[0]!.layers).not.toEqual(plan.boards[0]!.layers);
    expect(
      await errorCodeOf(() =>
        Pipeline.fromPlan(
          plan,
          planBoards(other).map((b) => b.connect()),
          { fingerprint: qm.fingerprint },
        ),
      ),
    ).toBe('WRONG_MODEL');
  });

  it("times requests out after the plan's derived timeout, or the caller's requestTimeoutMs", async () => {
    const stalled = async (options: { requestTimeoutMs?: number }) => {
      const boards = planBoards(plan);
      const pipeline = Pipeline.fromPlan(
        plan,
        boards.map((b) => b.connect()),
        { fingerprint: qm.fingerprint, ...options },
      );
      boards[1]!.stall();
      try {
        for await (const _ of pipeline.generate({
          tokenizer,
          sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 1, seed: 1 }),
          prompt: 'Once',
          steps: 4,
        })) {
          // no token comes: the last board is stalled
        }
        throw new Error('generated through a stalled board');
      } catch (e) {
        if (!TinypipeError.hasCode(e, 'TIMEOUT')) throw e;
        return e.details;
      } finally {
        await pipeline.close();
      }
    };
    // the plan predicts ~10 ms per position on board 1: 20 × 10 ms × 2 streams is under the 10 s floor
    expect(planRequestTimeouts(plan, 'star', 2)[1]).toBe(MIN_REQUEST_TIMEOUT_MS);
    expect(await stalled({})).toMatchObject({ board: 1, timeoutMs: MIN_REQUEST_TIMEOUT_MS });
    expect(await stalled({ requestTimeoutMs: 150 })).toMatchObject({ board: 1, timeoutMs: 150 });
  });
});
