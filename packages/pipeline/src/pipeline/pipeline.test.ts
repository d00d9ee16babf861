import { TINY_CONFIG } from '@tinypipe/core/testing';
import { describe, expect, it } from 'vitest';
import { fakeBoard } from '../testing/fake-board.test-helper.js';
import { Pipeline } from './pipeline.js';

const fingerprint = new Uint8Array(32).fill(3);
const plan = {
  config: TINY_CONFIG,
  fingerprint,
  stages: [
    {
      layers: [0, TINY_CONFIG.nLayers] as const,
      embedding: true,
      vocab: [0, TINY_CONFIG.vocabSize] as const,
    },
  ],
};

describe('Pipeline (in memory)', () => {
  it('assembles the last board’s logits from consecutive slices', async () => {
    const V = TINY_CONFIG.vocabSize;
    const board = fakeBoard({}, (m) =>
      m.kind === 'token'
        ? [
            {
              kind: 'logits',
              stream: m.stream,
              pos: m.pos,
              vocabFrom: 0,
              logits: Float32Array.from({ length: 10 }, (_, i) => i),
            },
            {
              kind: 'logits',
              stream: m.stream,
              pos: m.pos,
              vocabFrom: 10,
              logits: Float32Array.from({ length: V - 10 }, (_, i) => 10 + i),
            },
          ]
        : [],
    );
    const p = Pipeline.connect([board], plan);
    const logits = await p.forward(0, 1, 0);
    expect(Array.from(logits)).toEqual(Array.from({ length: V }, (_, i) => i));
    expect(p.streams).toBe(2);
  });

  it('an ERROR that arrives before its request still fails that request, with the board and code', async () => {
    const board = fakeBoard({}, (m) =>
      m.kind === 'start' || m.kind === 'token'
        ? [{ kind: 'error', stream: m.stream, code: 13, text: 'no' }]
        : [],
    );
    const p = Pipeline.connect([board], plan);
    await expect(p.forward(0, 1, 0)).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
      details: { board: 0, code: 13 },
    });
  });

  describe('boardStats', () => {
    const L = TINY_CONFIG.nLayers;
    const twoBoards = {
      ...plan,
      stages: [
        { layers: [0, 1] as const, embedding: true, vocab: null },
        { layers: [1, L] as const, embedding: false, vocab: [0, TINY_CONFIG.vocabSize] as const },
      ],
    };
    const counters = (forwards: number) => ({
      board: 0, // one ESP-IDF build for every board reports the same index: star goes by the port
      forwards,
      computeUs: 1500 * forwards,
      framesOut: 3,
      framesIn: 4,
      bytesOut: 50,
      bytesIn: 60,
      retransmits: 1,
      dropped: 2,
    });
    const statsBoard = (layers: [number, number], forwards: number | undefined) =>
      fakeBoard({ board: 0, layers, vocab: layers[0] === 0 ? undefined : [0, TINY_CONFIG.vocabSize] }, (m) =>
        m.kind === 'stats-request' && forwards !== undefined
          ? [{ kind: 'stats', ...counters(forwards) }]
          : [],
      );

    it('asks every board and joins its counters with its place in the plan', async () => {
      const p = Pipeline.connect([statsBoard([0, 1], 4), statsBoard([1, L], 5)], twoBoards);
      const [a, b] = await p.boardStats();
      expect(a).toMatchObject({ board: 0, layers: [0, 1], forwards: 4, computeMs: 6, msPerForward: 1.5 });
      expect(b).toMatchObject({ board: 1, layers: [1, L], forwards: 5, computeMs: 7.5, retransmits: 1 });
    });

    it('chain: the answers come up the last link in board order; a board without an index is placed by it', async () => {
      const last = fakeBoard({ board: 1, layers: [1, L] }, () => []);
      const first = fakeBoard({ board: 0, layers: [0, 1], vocab: undefined }, (m) => {
        // the request travels down the chain; each board's answer reaches the host through the last board
        if (m.kind === 'stats-request')
          for (const n of [4, 5]) last.push({ kind: 'stats', ...counters(n), board: 0xffff });
        return [];
      });
      const p = Pipeline.connect([first, last], twoBoards, { topology: 'chain' });
      expect((await p.boardStats()).map((b) => [b.board, b.forwards])).toEqual([
        [0, 4],
        [1, 5],
      ]);
    });

    it('TIMEOUT names the boards that do not answer, and a later call still works', async () => {
      let forwards: number | undefined;
      const quiet = fakeBoard({ layers: [1, L] }, (m) =>
        m.kind === 'stats-request' && forwards !== undefined
          ? [{ kind: 'stats', ...counters(forwards) }]
          : [],
      );
      const p = Pipeline.connect([statsBoard([0, 1], 1), quiet], twoBoards);
      await expect(p.boardStats({ timeoutMs: 50 })).rejects.toMatchObject({
        code: 'TIMEOUT',
        message: expect.stringMatching(/^board\(s\) 1 did not answer STATS within 50 ms/),
        details: { boards: [1] },
      });
      forwards = 9;
      expect((await p.boardStats({ timeoutMs: 1000 }))[1]!.forwards).toBe(9);
    });
  });

  it('refuses a board with another model, layer range or classifier, naming the board', () => {
    expect(() =>
      Pipeline.connect([fakeBoard({ fingerprint: new Uint8Array(32).fill(9) }, () => [])], plan),
    ).toThrow(/board 0 holds model 0909/);
    expect(() => Pipeline.connect([fakeBoard({ layers: [0, 1] }, () => [])], plan)).toThrow(
      /layers \[0, 1\), the plan says/,
    );
    expect(() => Pipeline.connect([fakeBoard({}, () => [])], { ...plan, stages: [] })).toThrow(
      /the plan has 0 boards, 1 links/,
    );
  });
});
