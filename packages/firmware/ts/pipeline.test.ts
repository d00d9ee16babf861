/**
 * The pipeline end to end on simulated boards: each board a `tinypipe-board --pty` process holding its
 * image of a split, reached over a real PTY (Node serialport + ReliableLink), driven by @tinypipe/pipeline's Pipeline
 * with the llama2.c sampler on the host. The tokens must equal the unsplit host run exactly.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildImage,
  generateText,
  QuantEngine,
  quantize,
  readCheckpoint,
  readTokenizer,
  Sampler,
  SlicedSampler,
  splitSelections,
  synthesize,
} from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import type { Link } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard, spawnPtyChain } from './pty-board.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
const qm = quantize(checkpoint, { weights: 'q8' });
const running: PtyBoard[] = [];
afterAll(async () => {
  for (const b of running) b.process.kill('SIGCONT'); // a board a test stopped
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

async function pipelineOf(split: number[]): Promise<Pipeline> {
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
const stagesOf = (split: number[]) =>
  split.map((n, i) => {
    const from = split.slice(0, i).reduce((a, b) => a + b, 0);
    return [from, from + n];
  });

const host = (temperature: number, seed: number, steps: number, exp: 'platform' | 'spec' = 'platform') =>
  generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp }),
    prompt: 'Once upon a time',
    steps,
  });

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

  it('a board killed mid-generation fails the generation with PORT_DISCONNECTED (no hang); a restarted board serves again', async () => {
    const selections = splitSelections(qm.config, [2, 3], 1);
    const images = selections.map((sel, i) => {
      const path = join(tmp, `pipe-kill-${i}.img`);
      writeFileSync(path, buildImage(qm, sel));
      return path;
    });
    const connectAll = async (boards: PtyBoard[]) =>
      Pipeline.connect(
        await Promise.all(boards.map(async (b) => ReliableLink.connect(await openSerialPort(b.path)))),
        pipelinePlan(qm, selections),
      );
    const boards = await Promise.all(images.map((p, i) => spawnPtyBoard(p, { board: i })));
    running.push(...boards);
    const pipeline = await connectAll(boards);
    let produced = 0;
    const run = (async () => {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampling: { temperature: 0.8, topp: 0.9, seed: 5 },
        prompt: 'Once',
        steps: 500,
      })) {
        if (++produced === 20) void boards[1]!.kill('SIGKILL'); // pulled mid-story
      }
    })().then(
      () => 'finished',
      (e: { code?: string }) => e.code,
    );
    const outcome = await Promise.race([run, new Promise((r) => setTimeout(() => r('hang'), 10_000))]);
    expect(['PORT_DISCONNECTED', 'PEER_RESET', 'TIMEOUT', 'LINK_DOWN']).toContain(outcome);
    expect(produced).toBeGreaterThanOrEqual(20);
    await pipeline.close().catch(() => {});
    // the board comes back (a new process, the same image): a new pipeline generates again
    boards[1] = await spawnPtyBoard(images[1]!, { board: 1 });
    running.push(boards[1]);
    await boards[0]!.kill();
    boards[0] = await spawnPtyBoard(images[0]!, { board: 0 });
    running.push(boards[0]);
    const again = await connectAll(boards);
    const tokens: number[] = [];
    for await (const t of again.generate({
      tokenizer,
      sampling: { temperature: 0, topp: 1, seed: 1 },
      prompt: 'Once upon a time',
      steps: 40,
    }))
      tokens.push(t.token);
    expect(tokens).toEqual((await host(0, 1, 40, 'spec')).tokens);
    await again.close();
  }, 120_000);

  for (const onBoard of [true, false])
    it(`with reconnect, a board killed mid-generation comes back and the stream resumes by re-prefilling (${onBoard ? 'board' : 'host'} sampling): the tokens equal an undisturbed run`, async () => {
      const split = [2, 3];
      const images = imagesOf(qm, split, `resume-${onBoard}`);
      const boards = await Promise.all(images.map((p, i) => spawnPtyBoard(p, { board: i })));
      running.push(...boards);
      const connect = async (b: PtyBoard) => ReliableLink.connect(await openSerialPort(b.path));
      const resumes: { stream: number; pos: number; code: string }[] = [];
      const pipeline = Pipeline.connect(
        await Promise.all(boards.map(connect)),
        pipelinePlan(qm, splitSelections(qm.config, split, 1)),
        {
          // the board "reboots": a new process with the same image (a new PTY, so a new link)
          reconnect: async (i) => {
            boards[i] = await spawnPtyBoard(images[i]!, { board: i });
            running.push(boards[i]!);
            return connect(boards[i]!);
          },
          onResume: (e) => resumes.push({ stream: e.stream, pos: e.pos, code: e.error.code }),
        },
      );
      const got: number[] = [];
      for await (const t of pipeline.generate({
        tokenizer,
        ...(onBoard
          ? { sampling: { temperature: 0.8, topp: 0.9, seed: 5 } }
          : { sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 5 }) }),
        prompt: 'Once upon a time',
        steps: 150,
      })) {
        got.push(t.token);
        if (got.length === 60) void boards[1]!.kill('SIGKILL'); // pulled mid-story, then it comes back
      }
      expect(resumes.length).toBeGreaterThanOrEqual(1);
      expect(resumes[0]!.code).toBe('PORT_DISCONNECTED');
      expect(resumes[0]!.pos).toBeGreaterThanOrEqual(60);
      expect(pipeline.resumes).toBeGreaterThanOrEqual(1);
      expect(got).toEqual((await host(0.8, 5, 150, onBoard ? 'spec' : 'platform')).tokens);
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

/** The images of a split of `model`, written to tmp. */
function imagesOf(model: typeof qm, split: number[], tag: string): string[] {
  return splitSelections(model.config, split, 1).map((sel, i) => {
    const path = join(tmp, `${tag}-${split.join('_')}-${i}.img`);
    writeFileSync(path, buildImage(model, sel));
    return path;
  });
}

/** A chain of boards for `split`: the host holds links to the first board and to the last one's second port. */
async function chainOf(model: typeof qm, split: number[], tag = 'chain'): Promise<Pipeline> {
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

async function tokensOf(
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

describe('Pipeline on simulated boards (chain topology: board to board, the host at both ends)', () => {
  for (const split of [[5], [2, 3], [1, 2, 2], [1, 1, 1, 2], [1, 1, 1, 1, 1]]) {
    it(`${split.length} board(s) (${split.join('+')} layers): host- and board-sampled tokens equal the host run`, async () => {
      const pipeline = await chainOf(qm, split);
      expect(pipeline.topology).toBe('chain');
      for (const [temperature, seed] of [
        [0, 1],
        [0.8, 42],
      ] as const) {
        expect(await tokensOf(pipeline, { temperature, seed, steps: 96, onBoard: false })).toEqual(
          (await host(temperature, seed, 96)).tokens,
        );
        expect(await tokensOf(pipeline, { temperature, seed, steps: 96, onBoard: true })).toEqual(
          (await host(temperature, seed, 96, 'spec')).tokens,
        );
      }
      // the host relays nothing: the first board's link only carries requests in, the last's answers out
      const [first, last] = pipeline.stats();
      expect(first!.board).toBe(0);
      expect(last!.board).toBe(split.length - 1);
      expect(last!.messages).toBeGreaterThan(0);
      // STATS travels down the chain: the boards the host has no link to answer too
      const own = await pipeline.boardStats();
      expect(own.map((b) => [b.board, b.layers, b.forwards])).toEqual(
        stagesOf(split).map((layers, i) => [i, layers, last!.messages]),
      );
      expect(own.every((b) => b.computeMs > 0 && b.bytesIn > 0 && b.bytesOut > 0)).toBe(true);
      await pipeline.close();
    }, 120_000);
  }

  it('two generations at once flow through the chain, each equal to its host run', async () => {
    const pipeline = await chainOf(qm, [2, 3]);
    const [a, b] = await Promise.all([
      tokensOf(pipeline, { temperature: 0.8, seed: 7, steps: 64, onBoard: true }),
      tokensOf(pipeline, { temperature: 0.8, seed: 8, steps: 64, onBoard: true }),
    ]);
    expect(a).toEqual((await host(0.8, 7, 64, 'spec')).tokens);
    expect(b).toEqual((await host(0.8, 8, 64, 'spec')).tokens);
    await pipeline.close();
  }, 120_000);

  it('with reconnect, the first board killed mid-generation comes back (same image, same wiring) and the stream resumes', async () => {
    const split = [1, 2, 2];
    const images = imagesOf(qm, split, 'chain-resume');
    const boards = await spawnPtyChain(images);
    running.push(...boards);
    const connect = async (path: string) => ReliableLink.connect(await openSerialPort(path));
    const resumes: string[] = [];
    const pipeline = Pipeline.connect(
      await Promise.all([connect(boards[0]!.path), connect(boards[2]!.outPath!)]),
      pipelinePlan(qm, splitSelections(qm.config, split, 1)),
      {
        topology: 'chain',
        reconnect: async (index) => {
          expect(index).toBe(0); // the host's link to the first board failed
          boards[0] = await spawnPtyBoard(images[0]!, { board: 0, next: boards[1]!.inPath! });
          running.push(boards[0]);
          return connect(boards[0].path);
        },
        onResume: (e) => resumes.push(e.error.code),
      },
    );
    const got: number[] = [];
    for await (const t of pipeline.generate({
      tokenizer,
      sampling: { temperature: 0.8, topp: 0.9, seed: 11 },
      prompt: 'Once upon a time',
      steps: 120,
    })) {
      got.push(t.token);
      if (got.length === 40) void boards[0]!.kill('SIGKILL');
    }
    expect(resumes[0]).toBe('PORT_DISCONNECTED');
    expect(got).toEqual((await host(0.8, 11, 120, 'spec')).tokens);
    await pipeline.close();
  }, 60_000);

  it('a middle board killed mid-generation: the board before it notices (heartbeat) and the host gets an error, no hang', async () => {
    const boards = await spawnPtyChain(imagesOf(qm, [1, 2, 2], 'chain-kill'));
    running.push(...boards);
    const links = await Promise.all(
      [boards[0]!.path, boards[2]!.outPath!].map(async (p) => ReliableLink.connect(await openSerialPort(p))),
    );
    const pipeline = Pipeline.connect(links, pipelinePlan(qm, splitSelections(qm.config, [1, 2, 2], 1)), {
      topology: 'chain',
    });
    let produced = 0;
    let killedAt = 0;
    const run = (async () => {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampling: { temperature: 0.8, topp: 0.9, seed: 2 },
        prompt: 'Once',
        steps: 500,
      }))
        if (++produced === 20) {
          killedAt = performance.now();
          void boards[1]!.kill('SIGKILL');
        }
    })().then(
      () => 'finished',
      (e: { code?: string; details?: { code?: number } }) => `${e.code} ${e.details?.code}`,
    );
    const outcome = await Promise.race([run, new Promise((r) => setTimeout(() => r('hang'), 15_000))]);
    expect(outcome).toBe('REMOTE_ERROR 15'); // TP_E_NEXT_SILENT, from board 0
    // 2 s of silence (the heartbeat's limit), plus scheduling
    expect(performance.now() - killedAt).toBeLessThan(5_000);
    expect(boards[0]!.log()).toMatch(/TIMEOUT: the next board has not answered for 2 s/);
    if (process.platform === 'linux') {
      // and meanwhile it waits for its next board without spinning on the hung-up line (it did: a dead
      // PTY reads as end of file forever, a core at 100 % for the rest of the run)
      const cpuTicks = () => {
        const fields = readFileSync(`/proc/${boards[0]!.process.pid}/stat`, 'utf8')
          .split(') ')[1]!
          .split(' ');
        return Number(fields[11]) + Number(fields[12]); // utime + stime, 100 per CPU second
      };
      const before = cpuTicks();
      await new Promise((r) => setTimeout(r, 1000));
      expect(cpuTicks() - before).toBeLessThan(10);
    }
    await pipeline.close();
  }, 60_000);

  it('a middle board holding the wrong layers is refused by the board before it, and the host hears which', async () => {
    const right = imagesOf(qm, [1, 2, 2], 'chain-wrong');
    const wrong = imagesOf(qm, [1, 1, 3], 'chain-wrong-b')[1]!; // layers [1, 2) where [1, 3) belongs
    const boards = await spawnPtyChain([right[0], wrong, right[2]]);
    running.push(...boards);
    const links = await Promise.all(
      [boards[0]!.path, boards[2]!.outPath!].map(async (p) => ReliableLink.connect(await openSerialPort(p))),
    );
    const pipeline = Pipeline.connect(links, pipelinePlan(qm, splitSelections(qm.config, [1, 2, 2], 1)), {
      topology: 'chain',
    });
    // board 1 accepts board 0 (its layers start at 1), but board 2 expects layers from 2 on, not [3, 5)
    const outcome = await tokensOf(pipeline, { temperature: 0, seed: 1, steps: 8, onBoard: true }).then(
      () => 'finished',
      (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
    );
    expect(outcome).toMatch(/^REMOTE_ERROR: board 1: WRONG_MODEL: .*layers \[2, 65535\).*\[3, 5\)/);
    expect(boards[1]!.log()).toMatch(/WRONG_MODEL/);
    await pipeline.close();
  }, 60_000);
});

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

// The host trusts no board (docs/protocol.md §5.2): a board that stops answering while its link stays up
// fails the stream with TIMEOUT naming it, well before the link's heartbeat; its late answer is dropped.
describe('Pipeline with a board that stops answering (simulated boards)', () => {
  it('a stalled last board: TIMEOUT naming board, stream and position within the request timeout; its late answer is dropped and the next run is exact', async () => {
    const selections = splitSelections(qm.config, [2, 3], 1);
    const boards = await Promise.all(
      selections.map(async (sel, i) => {
        const path = join(tmp, `untrusted-${i}.img`);
        writeFileSync(path, buildImage(qm, sel));
        const b = await spawnPtyBoard(path, { board: i });
        running.push(b);
        return b;
      }),
    );
    const links = await Promise.all(
      boards.map(async (b) => ReliableLink.connect(await openSerialPort(b.path), { timeoutMs: 10_000 })),
    );
    const pipeline = Pipeline.connect(links, pipelinePlan(qm, selections), { requestTimeoutMs: 400 });
    let stoppedAt = 0;
    let produced = 0;
    const run = (async () => {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 }),
        prompt: 'Once',
        steps: 200,
      }))
        if (++produced === 10) {
          boards[1]!.process.kill('SIGSTOP'); // hung firmware: its PTY still takes the request
          stoppedAt = performance.now();
        }
    })().then(
      () => ({ code: 'finished' }) as Record<string, unknown>,
      (e: Record<string, unknown>) => e,
    );
    const outcome = await run;
    const waited = performance.now() - stoppedAt;
    boards[1]!.process.kill('SIGCONT');
    expect(outcome).toMatchObject({
      code: 'TIMEOUT',
      message: expect.stringMatching(/^board 1 did not answer stream 0 at position \d+ within 400 ms/),
      details: { board: 1, stream: 0, timeoutMs: 400 },
    });
    expect(waited).toBeLessThan(2000); // not the link's heartbeat (10 s here): the request's own timer
    // the board wakes up and answers the abandoned request: counted, dropped
    const deadline = performance.now() + 5000;
    while (pipeline.stats()[1]!.unsolicited === 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    expect(pipeline.stats()[1]!.unsolicited).toBeGreaterThan(0);
    const want = await host(0, 1, 40);
    const got: number[] = [];
    for await (const t of pipeline.generate({
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 }),
      prompt: 'Once upon a time',
      steps: 40,
    }))
      got.push(t.token);
    expect(got).toEqual(want.tokens);
    await pipeline.close();
  }, 60_000);
});

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
