/**
 * Faults on simulated boards (see pipeline-star.test.ts and pipeline-chain.test.ts for the setup): a board
 * killed mid-generation fails the stream without a hang, and with `reconnect` the stream resumes by
 * re-prefilling to the tokens of an undisturbed run (star and chain); in a chain the board before a dead one
 * notices by heartbeat and one holding the wrong layers is refused by its neighbour; a board that stops
 * answering while its link stays up fails the stream with TIMEOUT and its late answer is dropped.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, Sampler, splitSelections } from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { host, imagesOf, qm, running, tokenizer, tokensOf } from './pipeline.test-helper.js';
import { type PtyBoard, spawnPtyBoard, spawnPtyChain } from './pty-board.js';

describe('Pipeline on simulated boards (star topology)', () => {
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
});

describe('Pipeline on simulated boards (chain topology: board to board, the host at both ends)', () => {
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
