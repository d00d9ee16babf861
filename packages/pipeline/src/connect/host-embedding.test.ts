/**
 * `connectBoards` with a plan that keeps the embedding on the host (`embedding: 'host'`): the build's
 * host.tpimg becomes the embedder (`hostImage`), checked against the model, the build and the manifest;
 * memory boards behind a real handshake (star), and `hostEmbedder` with `Pipeline.fromPlan` (chain).
 */
import { buildImage, generateText, QuantEngine, Sampler, stampBuildId } from '@tinypipe/core';
import { type BoardManifest, buildPlan, type Plan } from '@tinypipe/partitioner';
import { describe, expect, it } from 'vitest';
import { Pipeline } from '../pipeline/pipeline.js';
import { memoryChain } from '../testing/memory-chain.js';
import { planBoards, qm, tokenizer, twoBoardPlan } from '../testing/stories.test-helper.js';
import { connectBoards } from './connect-boards.js';
import { hostEmbedder } from './host-embedder.js';
import { line } from './line.test-helper.js';

/** stories260K over two boards with the embedding on the host (what `tinypipe plan --embedding host` gives). */
const plan = {
  ...twoBoardPlan(),
  embedding: 'host',
  boards: twoBoardPlan().boards.map((b) => ({ ...b, embedding: false })),
} as Plan;
const manifests: BoardManifest[] = buildPlan(plan, qm).map((b) => b.manifest);
const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16));
const build = bytes(manifests[0]!.build);
/** The build's host.tpimg: the embedding alone, stamped with the build id. */
const hostImage = stampBuildId(buildImage(qm, { layers: [0, 0], embedding: true, classifier: false }), build);

const want = async (steps: number) =>
  (
    await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 6, exp: 'spec' }),
      prompt: 'Once upon a time',
      steps,
    })
  ).tokens;

async function tokensOf(p: Pipeline, steps: number) {
  const got: number[] = [];
  for await (const t of p.generate({
    tokenizer,
    sampling: { temperature: 0.8, topp: 0.9, seed: 6 },
    prompt: 'Once upon a time',
    steps,
  }))
    got.push(t.token);
  return got;
}

describe('connectBoards with the embedding on the host', () => {
  it('star: the host.tpimg embeds, the boards (none holding the embedding) give the unsplit run', async () => {
    const boards = planBoards(plan, build);
    expect(boards.map((b) => b.hello.caps.embedding)).toEqual([false, false]);
    const p = await connectBoards({
      plan,
      manifests,
      hostImage,
      open: async (i) => line(boards[i]!).transport,
    });
    expect(await tokensOf(p, 60)).toEqual(await want(60));
    await p.close();
  });

  it('chain: Pipeline.fromPlan with `hostEmbedder(host.tpimg)` through a chain of memory boards', async () => {
    const chain = memoryChain(planBoards(plan, build));
    const p = Pipeline.fromPlan(plan, [chain.connect('first'), chain.connect('second')], {
      fingerprint: qm.fingerprint,
      build,
      topology: 'chain',
      embedder: hostEmbedder(hostImage, { fingerprint: qm.fingerprint, build }),
    });
    expect(await tokensOf(p, 60)).toEqual(await want(60));
    await p.close();
  });

  it('refuses before opening a port: no host image, one of another build or another model, or not the manifest’s', async () => {
    const opened: number[] = [];
    const open = async (i: number) => {
      opened.push(i);
      return line(planBoards(plan, build)[i]!).transport;
    };
    const other = { ...qm, fingerprint: new Uint8Array(32).fill(9) };
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{}, 'INVALID_ARGUMENT', /give `hostImage`, the bytes of the build's host.tpimg, or `embedder`/],
      [
        { hostImage: stampBuildId(hostImage, new Uint8Array(8).fill(1)) },
        'MIXED_BUILD',
        /the host image is of build 0101010101010101/,
      ],
      [
        { hostImage: buildImage(other, { layers: [0, 0], embedding: true, classifier: false }) },
        'WRONG_MODEL',
        /the host image holds model/,
      ],
      [
        {
          hostImage,
          manifests: manifests.map((m) => ({ ...m, host: { path: 'host.tpimg', sha256: '00'.repeat(32) } })),
        },
        'MIXED_BUILD',
        /SHA-256/,
      ],
    ];
    for (const [extra, code, message] of cases)
      await expect(connectBoards({ plan, manifests, open, ...extra })).rejects.toMatchObject({
        code,
        message: expect.stringMatching(message),
      });
    expect(opened).toEqual([]);
  });
});
