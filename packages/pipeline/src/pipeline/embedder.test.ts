/**
 * The embedding kept on the host (issue 20, docs/protocol.md §5): no board holds it, the host embeds each
 * token (`embedder`) and sends ACTIVATION to the first board. Against memory boards, star and chain: the
 * tokens (and layer hashes) equal the unsplit QuantEngine run, also after a board reset and with a split
 * classifier; and the refusals say what to pass.
 */
import {
  buildImage,
  generateText,
  QuantEngine,
  QuantStage,
  readImage,
  Sampler,
  SlicedSampler,
  sliceStage,
  splitSelections,
} from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { type MemoryBoard, memoryBoard } from '../testing/memory-board.js';
import { memoryChain } from '../testing/memory-chain.js';
import { qm, tokenizer } from '../testing/stories.test-helper.js';
import { prompt, tokensOf } from './generate.test-helper.js';
import { Pipeline, type PipelineOptions, pipelinePlan } from './pipeline.js';

const hostOnly = { layers: [0, 0] as const, embedding: true, classifier: false as const };
/** The host's embedder as connectBoards makes it: a QuantStage of an embedding-only image (host.tpimg). */
const embedder = new QuantStage(readImage(buildImage(qm, hostOnly)).stage);
/** A split of stories260K whose boards hold no embedding (the host keeps it). */
const hostSplit = (split: number[], slices = 1) =>
  splitSelections(qm.config, split, slices).map((s) => ({ ...s, embedding: false }));

const unsplit = async (sampler: Sampler | SlicedSampler, steps: number) =>
  (await generateText({ engine: QuantEngine.fromModel(qm), tokenizer, sampler, prompt, steps })).tokens;

/** A star or chain of memory boards holding `selections` (`reset`: board i reboots at this activation). */
function setUp(
  topology: 'star' | 'chain',
  selections: ReturnType<typeof hostSplit>,
  options: PipelineOptions = {},
  reset?: { board: number; pos: number },
) {
  let done = false;
  const boards: MemoryBoard[] = selections.map((s, i) =>
    memoryBoard(qm, s, {
      board: i,
      onMessage: (m, b) => {
        if (reset?.board === i && !done && m.kind === 'activation' && m.pos === reset.pos) {
          done = true;
          b.reset();
        }
      },
    }),
  );
  const plan = pipelinePlan(qm, selections);
  const full = { embedder, ...options };
  if (topology === 'star')
    return Pipeline.connect(
      boards.map((b) => b.connect()),
      plan,
      { ...full, reconnect: async (i) => boards[i]!.connect() },
    );
  const chain = memoryChain(boards);
  return Pipeline.connect([chain.connect('first'), chain.connect('second')], plan, {
    ...full,
    topology: 'chain',
    reconnect: async (i) => chain.connect(i === 0 ? 'first' : 'second'),
  });
}

describe('the embedding on the host (memory boards)', () => {
  for (const topology of ['star', 'chain'] as const) {
    it(`${topology}: board 0 gets ACTIVATION, never TOKEN; host- and board-sampled tokens equal the unsplit run`, async () => {
      const kinds = new Set<string>();
      const p = setUp(topology, hostSplit([2, 3]), { onRequest: (e) => kinds.add(`${e.sentTo} ${e.kind}`) });
      for (const sampling of ['host', 'board'] as const) {
        const exp = sampling === 'board' ? 'spec' : 'platform';
        expect(await tokensOf(p, 80, sampling, 5)).toEqual(
          await unsplit(new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 5, exp }), 80),
        );
      }
      expect([...kinds].filter((k) => k.startsWith('0 '))).toEqual(['0 activation']);
      await p.close();
    });

    it(`${topology}: a board reset mid-run is reconnected, the stream re-prefills from the host's rows and the tokens equal the unsplit run`, async () => {
      const resumes: string[] = [];
      // star: board 0 (the one the host's rows go to); chain: the last board, whose link the host holds
      const board = topology === 'star' ? 0 : 1;
      const p = setUp(
        topology,
        hostSplit([2, 3]),
        { onResume: (e) => resumes.push(e.error.code) },
        { board, pos: 40 },
      );
      expect(await tokensOf(p, 100, 'board', 9)).toEqual(
        await unsplit(
          new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 9, exp: 'spec' }),
          100,
        ),
      );
      expect(resumes).toEqual(['PEER_RESET']);
      expect(p.resumes).toBe(1);
      await p.close();
    });
  }

  it('the layer hashes every board reports equal the unsplit engine’s, position by position (chain of three)', async () => {
    const got = new Map<number, number[]>();
    const p = setUp('chain', hostSplit([1, 2, 2]), {
      onHashes: (e) => {
        const at = got.get(e.pos) ?? [];
        for (const [k, h] of e.hashes.entries()) at[e.layerFrom + k] = h;
        got.set(e.pos, at);
      },
    });
    const steps = 40;
    const engine = QuantEngine.fromModel(qm, { layerHashes: true });
    const tokens = await tokensOf(p, steps, 'board', 2);
    let token = 1;
    for (let pos = 0; pos < tokens.length; pos++) {
      engine.forward(token, pos);
      expect(got.get(pos), `position ${pos}`).toEqual([...engine.lastLayerHashes()]);
      token = tokens[pos]!;
    }
    await p.close();
  });

  it('a split classifier (star): the slices sample with the host as with the embedding on a board', async () => {
    const p = setUp('star', hostSplit([2, 3], 2));
    const s = { temperature: 0.8, topp: 0.9, seed: 3 };
    const got: number[] = [];
    for await (const t of p.generate({ tokenizer, sampling: s, prompt, steps: 60 })) got.push(t.token);
    expect(got).toEqual(await unsplit(new SlicedSampler({ vocabSize: 512, ...s }), 60));
    await p.close();
  });

  it('a function embedder (the dequantized row) gives the same tokens as a QuantStage', async () => {
    const stage = new QuantStage(sliceStage(qm, hostOnly));
    const p = setUp('star', hostSplit([3, 2]), { embedder: (t) => stage.embed(t) });
    expect(await tokensOf(p, 50, 'host', 4)).toEqual(
      await unsplit(new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 4 }), 50),
    );
    await p.close();
  });

  it('star, the last board holding the embedding: it answers TOKEN with the row, the host relays it to board 0; the tokens equal the unsplit run, also after that board resets', async () => {
    // board 1 holds the classifier too: with shared weights (stories260K) the same table embeds and classifies
    const sel = hostSplit([2, 3]).map((s, i) => ({ ...s, embedding: i === 1 }));
    const sent = new Set<string>();
    const resumes: string[] = [];
    let reset = false;
    const boards = sel.map((s, i) =>
      memoryBoard(qm, s, {
        board: i,
        onMessage: (m, b) => {
          sent.add(`${i} ${m.kind}`);
          if (i === 1 && !reset && m.kind === 'token' && m.pos === 30) {
            reset = true;
            b.reset();
          }
        },
      }),
    );
    const p = Pipeline.connect(
      boards.map((b) => b.connect()),
      pipelinePlan(qm, sel),
      { reconnect: async (i) => boards[i]!.connect(), onResume: (e) => resumes.push(e.error.code) },
    );
    for (const sampling of ['host', 'board'] as const) {
      const exp = sampling === 'board' ? 'spec' : 'platform';
      expect(await tokensOf(p, 70, sampling, 8)).toEqual(
        await unsplit(new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 8, exp }), 70),
      );
    }
    expect(resumes).toEqual(['PEER_RESET']);
    expect([...sent].filter((k) => k.endsWith('token') || k.endsWith('activation')).sort()).toEqual([
      '0 activation',
      '1 activation',
      '1 token',
    ]);
    await p.close();
  });

  describe('refusals', () => {
    const links = (selections: ReturnType<typeof hostSplit>) =>
      selections.map((s, i) => memoryBoard(qm, s, { board: i }).connect());

    it('no board holds the embedding and no embedder: INVALID_ARGUMENT saying what to pass', () => {
      const sel = hostSplit([2, 3]);
      expect(() => Pipeline.connect(links(sel), pipelinePlan(qm, sel))).toThrow(
        expect.objectContaining({
          code: 'INVALID_ARGUMENT',
          message: expect.stringMatching(/no board of this plan holds the embedding: pass `embedder`/),
        }),
      );
    });

    it('an embedder while board 0 holds the embedding: refused, one place embeds', () => {
      const sel = splitSelections(qm.config, [2, 3], 1);
      expect(() => Pipeline.connect(links(sel), pipelinePlan(qm, sel), { embedder })).toThrow(
        /board 0 holds the embedding and an `embedder` was given too/,
      );
    });

    it('a board other than the first holding the embedding in a chain: refused naming it', () => {
      const sel = hostSplit([2, 3]).map((s, i) => ({ ...s, embedding: i === 1 }));
      const chain = memoryChain(sel.map((s, i) => memoryBoard(qm, s, { board: i })));
      expect(() =>
        Pipeline.connect([chain.connect('first'), chain.connect('second')], pipelinePlan(qm, sel), {
          topology: 'chain',
        }),
      ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: { board: 1 } }));
    });

    it('an embedder of another model, or one without the embedding: WRONG_MODEL', () => {
      const sel = hostSplit([2, 3]);
      const other = { ...qm, fingerprint: new Uint8Array(32).fill(7) };
      const cases = [
        new QuantStage(sliceStage(other, hostOnly)),
        new QuantStage(sliceStage(qm, { ...hostOnly, layers: [0, 1], embedding: false })),
      ];
      for (const e of cases)
        expect(() => Pipeline.connect(links(sel), pipelinePlan(qm, sel), { embedder: e })).toThrow(
          expect.objectContaining({ code: 'WRONG_MODEL' }),
        );
    });

    it('an embedder that returns something else than dim floats fails the generation with INVALID_ARGUMENT', async () => {
      const sel = hostSplit([2, 3]);
      const p = Pipeline.connect(links(sel), pipelinePlan(qm, sel), {
        embedder: () => new Float32Array(3),
      });
      await expect(tokensOf(p, 5, 'host', 1)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/dim \(64\) floats/),
      });
      await p.close();
    });
  });
});
