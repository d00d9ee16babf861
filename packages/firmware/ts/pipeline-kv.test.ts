/**
 * KV cache formats through the real C boards (docs/numerics.md §6b): for fp32, fp16 and int8, a split run on
 * simulated boards — star and chain, over PTYs — equals the unsplit TS QuantEngine storing its cache in the same
 * format: tokens and every layer's hash at every position. Boards with a compact cache fit more streams in
 * the same PSRAM, and a chain's opening board refuses a next board of another format.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, hashHex, Sampler, splitSelections } from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { engineWith, imageWithKv } from './kv.test-helper.js';
import { qm, running, tokenizer } from './pipeline.test-helper.js';
import { spawnPtyBoard, spawnPtyChain } from './pty-board.js';

const PROMPT = 'Once upon a time';
const STEPS = 64;

/** The images of `split`, board i's cache in kvs[i], written to tmp. */
function images(split: number[], kvs: readonly KvFormat[], tag: string): string[] {
  return splitSelections(qm.config, split, 1).map((sel, i) => {
    const path = join(tmp, `kv-${tag}-${kvs.join('_')}-${i}.img`);
    writeFileSync(path, imageWithKv(qm, sel, kvs[i]!));
    return path;
  });
}

/** A star or chain pipeline of `split` on PTY boards whose images store the KV cache in `kv`. */
async function pipelineOf(split: number[], kv: KvFormat, topology: 'star' | 'chain'): Promise<Pipeline> {
  const paths = images(
    split,
    split.map(() => kv),
    topology,
  );
  const boards =
    topology === 'chain'
      ? await spawnPtyChain(paths)
      : await Promise.all(paths.map((p, i) => spawnPtyBoard(p, { board: i })));
  running.push(...boards);
  const ports = topology === 'chain' ? [boards[0]!.path, boards.at(-1)!.outPath!] : boards.map((b) => b.path);
  const links = await Promise.all(
    ports.map(async (p) =>
      ReliableLink.connect(await openSerialPort(p), { expect: { fingerprint: qm.fingerprint } }),
    ),
  );
  return Pipeline.connect(links, pipelinePlan(qm, splitSelections(qm.config, split, 1), kv), {
    topology,
    onHashes: (e) => {
      const row = (seen.get(e.pos) ?? []).slice();
      e.hashes.forEach((h, i) => {
        row[e.layerFrom + i] = hashHex(h);
      });
      seen.set(e.pos, row);
    },
  });
}
/** The layer hashes the boards reported, by position (filled by pipelineOf's onHashes). */
const seen = new Map<number, string[]>();

/** The unsplit TS run with its cache in `kv`: tokens, and each position's layer hashes. */
async function hostRun(kv: KvFormat, temperature: number, seed: number) {
  const engine = engineWith(qm, kv);
  const hashes = new Map<number, string[]>();
  const forward = engine.forward.bind(engine);
  engine.forward = (token: number, pos: number) => {
    const logits = forward(token, pos);
    hashes.set(pos, [...engine.lastLayerHashes()].map(hashHex));
    return logits;
  };
  const sampler = new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed });
  const { tokens } = await generateText({ engine, tokenizer, sampler, prompt: PROMPT, steps: STEPS });
  return { tokens, hashes };
}

describe('KV cache formats on the C boards equal the unsplit TS engine with the same format', () => {
  for (const topology of ['star', 'chain'] as const) {
    for (const kv of ['fp32', 'fp16', 'int8'] as const) {
      it(`${kv}, ${topology} of 2 boards (2+3 layers): greedy and top-p tokens, every layer hash at every position`, async () => {
        const pipeline = await pipelineOf([2, 3], kv, topology);
        for (const [temperature, seed] of [
          [0, 1],
          [0.8, 42],
        ] as const) {
          seen.clear();
          const want = await hostRun(kv, temperature, seed);
          const got: number[] = [];
          const sampler = new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed });
          for await (const t of pipeline.generate({ tokenizer, sampler, prompt: PROMPT, steps: STEPS }))
            got.push(t.token);
          expect(got).toEqual(want.tokens);
          expect(seen.size).toBeGreaterThanOrEqual(STEPS - 1);
          for (const [pos, row] of seen) expect(row, `position ${pos}`).toEqual(want.hashes.get(pos));
        }
        await pipeline.close();
      }, 120_000);
    }
  }

  it('the compact formats compute other numbers than fp32 (so the runs above test the format in effect)', async () => {
    const fp32 = await hostRun('fp32', 0, 1);
    for (const kv of ['fp16', 'int8'] as const) {
      const run = await hostRun(kv, 0, 1);
      expect([...run.hashes.values()].flat()).not.toEqual([...fp32.hashes.values()].flat());
    }
  });
});

describe('KV formats and the boards', () => {
  it('the same PSRAM holds more streams with fp16 and more again with int8 (HELLO streams)', async () => {
    // stories260K on one board: 5 layers × seq_len 512 × the format's bytes per position (§6b)
    const kvDim = (qm.config.dim / qm.config.nHeads) * qm.config.nKvHeads;
    const perPosition = { fp32: 8 * kvDim, fp16: 4 * kvDim, int8: 2 * (kvDim + 4 * qm.config.nKvHeads) };
    const cache = (kv: KvFormat) => qm.config.nLayers * qm.config.seqLen * perPosition[kv];
    const psram = 3 * cache('fp32') + 40_000; // three fp32 caches and their small buffers (under 16 KB each)
    const counts: number[] = [];
    for (const kv of ['fp32', 'fp16', 'int8'] as const) {
      const [path] = images([5], [kv], 'psram');
      const board = await spawnPtyBoard(path, { streams: 16, psram });
      running.push(board);
      const link = await ReliableLink.connect(await openSerialPort(board.path));
      counts.push(link.peer!.streams);
      // as many arenas as fit: the cache plus at most 16 KB of activations each
      expect(link.peer!.streams).toBeLessThanOrEqual(Math.floor(psram / cache(kv)));
      expect(link.peer!.streams).toBeGreaterThanOrEqual(Math.floor(psram / (cache(kv) + 16_384)));
      expect(link.peer!.caps.kv).toBe(kv);
      await link.close();
    }
    expect(counts[0]).toBe(3);
    expect(counts[1]!).toBeGreaterThan(counts[0]!);
    expect(counts[2]!).toBeGreaterThan(counts[1]!);
  }, 60_000);

  it('in a chain fp16, int8, fp16 the opening board refuses the next one (WRONG_MODEL, status 14 to the host), naming both formats', async () => {
    const three = splitSelections(qm.config, [1, 2, 2], 1);
    const boards = await spawnPtyChain(images([1, 2, 2], ['fp16', 'int8', 'fp16'], 'mixed'));
    running.push(...boards);
    for (let t = 0; t < 100 && !/KV cache/.test(boards[0]!.log()); t++)
      await new Promise((r) => setTimeout(r, 50));
    expect(boards[0]!.log()).toMatch(/WRONG_MODEL: this board's KV cache is fp16, the next board's int8/);
    const links = await Promise.all(
      [boards[0]!.path, boards[2]!.outPath!].map(async (p) => ReliableLink.connect(await openSerialPort(p))),
    );
    // the plan's format is the ends' (the host checks the boards it has links to: boards 0 and 2)
    const pipeline = Pipeline.connect(links, pipelinePlan(qm, three, 'fp16'), { topology: 'chain' });
    let error: unknown;
    try {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 }),
        prompt: 'Once',
        steps: 8,
      }));
    } catch (e) {
      error = e;
    }
    // firmware status 14, TP_E_NEXT_REFUSED (WRONG_MODEL): the board's refusal reaches the host in its words
    expect(TinypipeError.isInstance(error)).toBe(true);
    const { details, message } = error as TinypipeError;
    expect(details).toMatchObject({ board: 0, code: 14, firmwareCode: 'WRONG_MODEL' });
    expect(message).toMatch(/board 0: WRONG_MODEL: this board's KV cache is fp16, the next board's int8/);
    await pipeline.close();
  }, 60_000);
});
