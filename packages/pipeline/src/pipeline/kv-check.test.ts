/**
 * The KV cache format at connect time (docs/protocol.md §4.1 caps bits 3–4, docs/numerics.md §6b): boards
 * whose HELLO reports another format than the plan's are refused with WRONG_MODEL naming both; boards of
 * the plan's format run it, giving the tokens of the unsplit quantized engine with that format.
 */
import { generateText, QuantEngine, Sampler } from '@tinypipe/core';
import type { KvFormat } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { memoryBoard } from '../testing/memory-board.js';
import { planBoards, qm, tokenizer, twoBoardPlan } from '../testing/stories.test-helper.js';
import { pipelinePlanOf } from './from-plan.js';
import { Pipeline } from './pipeline.js';
import { pipelinePlan } from './plan.js';

const plan = twoBoardPlan();
const boardsOf = (kv: KvFormat | undefined) =>
  plan.boards.map((b) =>
    memoryBoard(
      qm,
      { layers: b.layers, embedding: b.embedding, classifier: b.vocab ?? false },
      { board: b.index, ...(kv ? { kv } : {}) },
    ),
  );
const run = { prompt: 'Once upon a time', steps: 48 };
const sampler = () => new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 5 });

/** The error `fn` rejects with (fails when it resolves). */
async function refusal(fn: () => Promise<unknown>): Promise<TinypipeError> {
  try {
    await fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('KV cache format: the host checks each board', () => {
  it('a memory board reports its format in its HELLO and computes with it', () => {
    expect(planBoards(plan)[0]!.hello.caps.kv).toBe('fp32');
    const [b0] = boardsOf('int8');
    expect(b0!.hello.caps.kv).toBe('int8');
    expect(b0!.connect().peer?.caps.kv).toBe('int8');
  });

  it('pipelinePlanOf and pipelinePlan carry the format', () => {
    expect(pipelinePlanOf({ ...plan, kv: 'fp16' }, { fingerprint: qm.fingerprint }).kv).toBe('fp16');
    expect(pipelinePlanOf(plan, { fingerprint: qm.fingerprint }).kv).toBe('fp32');
    const sel = [{ layers: [0, 5] as const, embedding: true, classifier: [0, 512] as const }];
    expect(pipelinePlan(qm, sel, 'int8').kv).toBe('int8');
    expect(pipelinePlan(qm, sel).kv).toBeUndefined();
  });

  for (const [boards, planned] of [
    ['int8', 'fp32'],
    ['fp32', 'fp16'],
    ['fp16', 'int8'],
  ] as const) {
    it(`refuses ${boards} boards for a ${planned} plan (WRONG_MODEL naming both), before anything is sent`, async () => {
      const bs = boardsOf(boards);
      const e = await refusal(async () =>
        Pipeline.fromPlan(
          { ...plan, kv: planned },
          bs.map((b) => b.connect()),
          { fingerprint: qm.fingerprint },
        ),
      );
      expect(e.code).toBe('WRONG_MODEL');
      expect(e.message).toContain(`board 0 holds a KV cache of format ${boards}, the plan's is ${planned}`);
      expect(bs.every((b) => b.forwards === 0)).toBe(true);
    });
  }

  it('a plan without a format expects fp32 (Pipeline.connect with pipelinePlan)', async () => {
    const bs = boardsOf('fp16');
    const selections = plan.boards.map((b) => ({
      layers: b.layers,
      embedding: b.embedding,
      classifier: b.vocab ?? (false as const),
    }));
    const e = await refusal(async () =>
      Pipeline.connect(
        bs.map((b) => b.connect()),
        pipelinePlan(qm, selections),
      ),
    );
    expect([e.code, e.message.includes('fp16') && e.message.includes('fp32')]).toEqual(['WRONG_MODEL', true]);
  });

  for (const kv of ['fp16', 'int8'] as const) {
    it(`${kv} boards run a ${kv} plan: the tokens and layer hashes of QuantEngine with kv ${kv}, not fp32's`, async () => {
      const bs = boardsOf(kv);
      const boardHashes = new Map<number, number[]>();
      const pipeline = Pipeline.fromPlan(
        { ...plan, kv },
        bs.map((b) => b.connect()),
        {
          fingerprint: qm.fingerprint,
          onHashes: (e) => {
            const at = boardHashes.get(e.pos) ?? [];
            for (const [k, h] of e.hashes.entries()) at[e.layerFrom + k] = h;
            boardHashes.set(e.pos, at);
          },
        },
      );
      const got: number[] = [];
      for await (const t of pipeline.generate({ tokenizer, sampler: sampler(), ...run })) got.push(t.token);
      await pipeline.close();
      /** The unsplit run with `options`, recording the layer hashes of every position. */
      const host = async (options: { kv?: KvFormat }) => {
        const e = QuantEngine.fromModel(qm, { ...options, layerHashes: true });
        const hashes = new Map<number, number[]>();
        const engine = {
          config: e.config,
          forward: (t: number, pos: number) => {
            const logits = e.forward(t, pos);
            hashes.set(pos, [...e.lastLayerHashes()]);
            return logits;
          },
        };
        return { ...(await generateText({ engine, tokenizer, sampler: sampler(), ...run })), hashes };
      };
      const same = await host({ kv });
      const fp32 = await host({});
      expect(got).toEqual(same.tokens);
      expect(boardHashes.size).toBe(same.hashes.size);
      for (const [pos, h] of same.hashes) expect(boardHashes.get(pos), `position ${pos}`).toEqual(h);
      // the format is really applied: from position 1 on (position 0 attends to itself only) hashes differ
      const differ = [...same.hashes].filter(([pos, h]) => h.join() !== fp32.hashes.get(pos)?.join());
      expect(differ.length).toBeGreaterThan(same.hashes.size / 2);
    });
  }
});
