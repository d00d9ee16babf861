/**
 * The host trusts no board (docs/protocol.md §5.2), through real `tinypipe-board --pty` processes: a board
 * that stops answering mid-generation while its link stays up fails the stream with TIMEOUT naming it,
 * well before the link's own heartbeat; its late answer is dropped, and the next generation is exact.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildImage,
  generateText,
  Pipeline,
  pipelinePlan,
  QuantEngine,
  quantize,
  readCheckpoint,
  readTokenizer,
  Sampler,
  splitSelections,
} from '@tinypipe/core';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
const qm = quantize(checkpoint, { weights: 'q8' });
const running: PtyBoard[] = [];
afterAll(async () => {
  for (const b of running) b.process.kill('SIGCONT');
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

const greedy = () => new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 });

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
      for await (const _ of pipeline.generate({ tokenizer, sampler: greedy(), prompt: 'Once', steps: 200 }))
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
    const want = await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: greedy(),
      prompt: 'Once upon a time',
      steps: 40,
    });
    const got: number[] = [];
    for await (const t of pipeline.generate({
      tokenizer,
      sampler: greedy(),
      prompt: 'Once upon a time',
      steps: 40,
    }))
      got.push(t.token);
    expect(got).toEqual(want.tokens);
    await pipeline.close();
  }, 60_000);
});
