/**
 * Issue 17 through the real C board: two builds of the same model, quantization and split (each image's
 * header carries its build's id, docs/image-format.md §3). Mixed, they are refused at connect
 * (`MIXED_BUILD`, naming each board and its build) before any token runs — by the host when it only
 * compares what the boards report, by the board itself when the host says which build it expects, and by
 * the opening board of a chain about the next one. One build works bit-exact as before.
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
  readImage,
  readTokenizer,
  Sampler,
  splitSelections,
  stampBuildId,
} from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import { TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard, spawnPtyChain } from './pty-board.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
const qm = quantize(checkpoint, { weights: 'q8' });
const selections = splitSelections(qm.config, [2, 3], 1);
const BUILD_A = Uint8Array.of(0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8);
const BUILD_B = Uint8Array.of(0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const running: PtyBoard[] = [];
afterAll(async () => {
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

/** Board i's image of the [2, 3] split, stamped with `build` (all zero: none). */
function imageFile(i: number, build: Uint8Array, tag: string): string {
  const path = join(tmp, `mixed-build-${tag}-${i}.img`);
  writeFileSync(path, stampBuildId(buildImage(qm, selections[i]!), build));
  return path;
}

async function boardsOf(builds: readonly Uint8Array[], tag: string): Promise<PtyBoard[]> {
  return Promise.all(
    builds.map(async (build, i) => {
      const board = await spawnPtyBoard(imageFile(i, build, tag), { board: i });
      running.push(board);
      return board;
    }),
  );
}

async function caught(fn: () => Promise<unknown>): Promise<TinypipeError> {
  try {
    await fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a TinypipeError');
}

describe('boards of two builds of one model, quantization and split', () => {
  it('the images differ only in their build id', () => {
    const a = readImage(readFileSync(imageFile(0, BUILD_A, 'cmp'))).header;
    const b = readImage(readFileSync(imageFile(0, BUILD_B, 'cmp'))).header;
    expect(hex(a.fingerprint)).toBe(hex(b.fingerprint));
    expect([hex(a.buildId), hex(b.buildId)]).toEqual([hex(BUILD_A), hex(BUILD_B)]);
  });

  it('are refused at Pipeline.connect with MIXED_BUILD naming both boards and builds; nothing is generated', async () => {
    const boards = await boardsOf([BUILD_A, BUILD_B], 'host');
    // no expected build: each handshake passes, and each board reports its image's build
    const links = await Promise.all(
      boards.map(async (b) =>
        ReliableLink.connect(await openSerialPort(b.path), { expect: { fingerprint: qm.fingerprint } }),
      ),
    );
    expect(links.map((l) => hex(l.peer!.build!))).toEqual([hex(BUILD_A), hex(BUILD_B)]);
    const e = await caught(async () => Pipeline.connect(links, pipelinePlan(qm, selections)));
    expect(e.code).toBe('MIXED_BUILD');
    expect(e.message).toContain(`board 0: build ${hex(BUILD_A)}`);
    expect(e.message).toContain(`board 1: build ${hex(BUILD_B)}`);
    // the same when the caller knows the build: the board of the other build is named
    const known = await caught(async () =>
      Pipeline.connect(links, { ...pipelinePlan(qm, selections), build: BUILD_A }),
    );
    expect(known.code).toBe('MIXED_BUILD');
    expect(known.message).toContain(`this build is ${hex(BUILD_A)}`);
    // Pipeline.connect threw: there is no pipeline, so no START or TOKEN was ever sent
    await Promise.all(links.map((l) => l.close()));
  }, 60_000);

  it('a host that expects a build is refused by the board of the other build at the handshake (status 3)', async () => {
    const boards = await boardsOf([BUILD_A, BUILD_B], 'expect');
    const ok = await ReliableLink.connect(await openSerialPort(boards[0]!.path), {
      expect: { build: BUILD_A },
    });
    await ok.close();
    const e = await caught(async () =>
      ReliableLink.connect(await openSerialPort(boards[1]!.path), {
        expect: { build: BUILD_A },
        handshakeTimeoutMs: 2000,
      }),
    );
    expect(e.code).toBe('MIXED_BUILD');
    expect(e.details).toMatchObject({ expected: hex(BUILD_A), actual: hex(BUILD_B) });
    expect(boards[1]!.log()).toMatch(
      new RegExp(
        `MIXED_BUILD: the host expects build ${hex(BUILD_A)}, this board's image is of build ${hex(BUILD_B)}`,
      ),
    );
  }, 60_000);

  it('in a chain the first board refuses a next board of another build (its log says MIXED_BUILD)', async () => {
    const images = [imageFile(0, BUILD_A, 'chain'), imageFile(1, BUILD_B, 'chain')];
    const boards = await spawnPtyChain(images);
    running.push(...boards);
    for (let t = 0; t < 100 && !/MIXED_BUILD/.test(boards[0]!.log()); t++)
      await new Promise((r) => setTimeout(r, 50));
    expect(boards[0]!.log()).toMatch(
      new RegExp(
        `MIXED_BUILD: the host expects build ${hex(BUILD_A)}, this board's image is of build ${hex(BUILD_B)}`,
      ),
    );
  }, 60_000);

  it('a chain A, B, A: the host sees build A at both ends, and hears MIXED_BUILD from board 0 about board 1', async () => {
    const three = splitSelections(qm.config, [1, 2, 2], 1);
    const images = [BUILD_A, BUILD_B, BUILD_A].map((build, i) => {
      const path = join(tmp, `mixed-build-chain3-${i}.img`);
      writeFileSync(path, stampBuildId(buildImage(qm, three[i]!), build));
      return path;
    });
    const boards = await spawnPtyChain(images);
    running.push(...boards);
    const links = await Promise.all(
      [boards[0]!.path, boards[2]!.outPath!].map(async (p) => ReliableLink.connect(await openSerialPort(p))),
    );
    const pipeline = Pipeline.connect(
      links,
      { ...pipelinePlan(qm, three), build: BUILD_A },
      { topology: 'chain' },
    );
    const e = await caught(async () => {
      for await (const _ of pipeline.generate({
        tokenizer,
        sampling: { temperature: 0, topp: 0.9, seed: 1 },
        prompt: 'Once',
        steps: 8,
      }));
    });
    expect(e.code).toBe('MIXED_BUILD'); // firmware status 18, TP_E_NEXT_WRONG_BUILD
    expect(e.message).toMatch(
      /^board 0: MIXED_BUILD: the host expects build a1a2a3a4a5a6a7a8, this board's image is of build b1b2b3b4b5b6b7b8/,
    );
    await pipeline.close();
  }, 60_000);

  it('one build works bit-exact as before', async () => {
    const boards = await boardsOf([BUILD_A, BUILD_A], 'same');
    const links = await Promise.all(
      boards.map(async (b) =>
        ReliableLink.connect(await openSerialPort(b.path), {
          expect: { fingerprint: qm.fingerprint, build: BUILD_A },
        }),
      ),
    );
    const pipeline = Pipeline.connect(links, { ...pipelinePlan(qm, selections), build: BUILD_A });
    const want = await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 }),
      prompt: 'Once upon a time',
      steps: 48,
    });
    const got: number[] = [];
    for await (const t of pipeline.generate({
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 }),
      prompt: 'Once upon a time',
      steps: 48,
    }))
      got.push(t.token);
    expect(got).toEqual(want.tokens);
    await pipeline.close();
  }, 120_000);
});
