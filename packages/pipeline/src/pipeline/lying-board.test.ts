/**
 * The host trusts no board (docs/protocol.md §5.2): scripted boards that lie — gaps, overlaps, rows past
 * the vocab, wrong positions and kinds, NaN, half an answer then silence, floods — each end in a coded
 * error for the stream concerned, and the other stream goes on with the right numbers.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { TINY_CONFIG } from '@tinypipe/core/testing';
import { encodeMessage, type Message } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { fakeBoard } from '../testing/fake-board.test-helper.js';
import { Pipeline } from './pipeline.js';

const V = TINY_CONFIG.vocabSize;
const L = TINY_CONFIG.nLayers;
const fingerprint = new Uint8Array(32).fill(3);
const plan = {
  config: TINY_CONFIG,
  fingerprint,
  stages: [{ layers: [0, L] as const, embedding: true, vocab: [0, V] as const }],
};
const twoBoards = {
  ...plan,
  stages: [
    { layers: [0, 1] as const, embedding: true, vocab: null },
    { layers: [1, L] as const, embedding: false, vocab: [0, V] as const },
  ],
};

/** The logits an honest board gives for `token` at `pos`: row r is token + pos + r. */
const truth = (token: number, pos: number) => Float32Array.from({ length: V }, (_, r) => token + pos + r);

type Slice = [from: number, to: number];
const logits = (stream: number, pos: number, token: number, [from, to]: Slice): Message => ({
  kind: 'logits',
  stream,
  pos,
  vocabFrom: from,
  logits: Float32Array.from({ length: to - from }, (_, i) => token + pos + from + i),
});

/** A board that answers stream 1 honestly and stream 0 with `lie` (the messages it sends instead). */
function lyingBoard(lie: (m: Extract<Message, { kind: 'token' }>) => (Message | Uint8Array)[]) {
  return fakeBoard({}, (m) => {
    if (m.kind !== 'token') return [];
    if (m.stream === 0) return lie(m);
    return [logits(m.stream, m.pos, m.token, [0, 10]), logits(m.stream, m.pos, m.token, [10, V])];
  });
}

/** Stream 0's request fails with `expected`; stream 1, asked at the same time, gets its right logits. */
async function expectLie(
  lie: (m: Extract<Message, { kind: 'token' }>) => (Message | Uint8Array)[],
  expected: object,
) {
  const p = Pipeline.connect([lyingBoard(lie)], plan, { requestTimeoutMs: 200 });
  const [bad, good] = await Promise.allSettled([p.forward(0, 5, 3), p.forward(1, 7, 2)]);
  expect(bad).toMatchObject({ status: 'rejected', reason: expected });
  expect(good).toEqual({ status: 'fulfilled', value: truth(7, 2) });
  return p;
}

describe('Pipeline against a lying board', () => {
  it('LOGITS with a gap: BAD_REPLY naming the missing rows (no zeros filled in)', async () => {
    await expectLie((m) => [logits(0, m.pos, m.token, [0, 10]), logits(0, m.pos, m.token, [20, V])], {
      code: 'BAD_REPLY',
      message: expect.stringMatching(
        /^board 0 \(stream 0, position 3\) left a gap in its LOGITS: rows \[10, 20\) never came/,
      ),
      details: { board: 0, stream: 0, pos: 3, vocabFrom: 20 },
    });
  });

  it('LOGITS overlapping, past the vocab, or empty: BAD_REPLY saying which', async () => {
    const cases: [Slice[], RegExp][] = [
      [
        [
          [0, 10],
          [5, V],
        ],
        /rows \[5, 64\) overlapping rows it already sent \(up to 10\)/,
      ],
      [
        [
          [0, 10],
          [10, V + 5],
        ],
        /rows \[10, 69\) past the vocab \(64 rows\)/,
      ],
      [
        [
          [0, 10],
          [10, 10],
        ],
        /an empty LOGITS slice at row 10/,
      ],
    ];
    for (const [slices, message] of cases)
      await expectLie((m) => slices.map((s) => logits(0, m.pos, m.token, s)), {
        code: 'BAD_REPLY',
        message: expect.stringMatching(message),
      });
  });

  it('a repeat after a complete answer is counted as unsolicited and dropped; the next answer is right', async () => {
    const board = fakeBoard({}, (m) =>
      m.kind === 'token' ? [logits(0, m.pos, m.token, [0, V]), logits(0, m.pos, m.token, [0, 4])] : [],
    );
    const p = Pipeline.connect([board], plan);
    expect(await p.forward(0, 5, 0)).toEqual(truth(5, 0));
    expect(await p.forward(0, 6, 1)).toEqual(truth(6, 1));
    expect(p.stats()[0]!.unsolicited).toBe(2);
  });

  it('an answer for another position or of another kind: BAD_REPLY for that stream', async () => {
    await expectLie((m) => [logits(0, m.pos + 1, m.token, [0, V])], {
      code: 'BAD_REPLY',
      message: expect.stringMatching(/^board 0 \(stream 0, position 3\) answered position 4/),
      details: { answeredPos: 4 },
    });
    await expectLie((m) => [{ kind: 'activation', stream: 0, pos: m.pos, x: new Float32Array(32) }], {
      code: 'BAD_REPLY',
      message: expect.stringMatching(/answered activation, not LOGITS or TOKEN/),
    });
    await expectLie((m) => [{ kind: 'token', stream: 0, pos: m.pos, token: V }], {
      code: 'BAD_REPLY',
      message: expect.stringMatching(/sent token 64, past the vocab \(64\)/),
    });
    await expectLie(
      (m) => [logits(0, m.pos, m.token, [0, 10]), { kind: 'token', stream: 0, pos: m.pos, token: 1 }],
      {
        code: 'BAD_REPLY',
        message: expect.stringMatching(/sent token between its LOGITS slices/),
      },
    );
  });

  it('a message that does not decode fails only the stream it names; the link and the other stream go on', async () => {
    // a LOGITS whose values are not whole floats, then an unknown kind: each names stream 0
    const ragged = encodeMessage(logits(0, 3, 5, [0, V])).subarray(0, 9 + 4 * V - 1);
    for (const bytes of [ragged, Uint8Array.of(0xee, 0, 0, 3, 0)]) {
      let lied = false; // once: the stream's next request gets an honest answer
      const p = await expectLie(
        (m) => {
          if (lied) return [logits(0, m.pos, m.token, [0, V])];
          lied = true;
          return [bytes];
        },
        {
          code: 'BAD_REPLY',
          message: expect.stringMatching(
            /^board 0 \(stream 0, position 3\) sent a message that does not decode/,
          ),
          details: { board: 0, stream: 0, pos: 3, bytes: bytes.length },
        },
      );
      expect(p.stats()[0]!.malformed).toBe(1);
      expect(await p.forward(0, 6, 4)).toEqual(truth(6, 4)); // the failed stream's next request is answered
    }
  });

  it('bytes too short to name a stream are counted and dropped; the request waiting on them times out alone', async () => {
    const p = await expectLie(() => [Uint8Array.of(0x04)], { code: 'TIMEOUT' });
    expect(p.stats()[0]!.malformed).toBe(1);
  });

  it('a stage’s ACTIVATION of the wrong length or with NaN: BAD_REPLY / NONFINITE naming that board', async () => {
    for (const [x, expected] of [
      [
        new Float32Array(31),
        {
          code: 'BAD_REPLY',
          message: expect.stringMatching(/ACTIVATION of 31 values, the model's dim is 32/),
        },
      ],
      [new Float32Array(32).fill(Number.NaN), { code: 'NONFINITE', details: { board: 0, index: 0 } }],
    ] as const) {
      const first = fakeBoard({ layers: [0, 1], vocab: undefined }, (m) =>
        m.kind === 'token' ? [{ kind: 'activation', stream: m.stream, pos: m.pos, x }] : [],
      );
      const last = fakeBoard({ layers: [1, L] }, (m) =>
        m.kind === 'activation' ? [logits(m.stream, m.pos, 0, [0, V])] : [],
      );
      const p = Pipeline.connect([first, last], twoBoards);
      await expect(p.forward(0, 1, 0)).rejects.toMatchObject(expected);
    }
  });

  it('chain: the last board’s gap is BAD_REPLY naming it; the other stream’s answer is right', async () => {
    const last = fakeBoard({ board: 1, layers: [1, L] }, () => []);
    const first = fakeBoard({ layers: [0, 1], vocab: undefined }, (m) => {
      if (m.kind === 'token')
        // down the chain; the last board answers on the host's second link
        for (const s of m.stream === 0
          ? [
              [0, 10],
              [11, V],
            ]
          : [
              [0, 10],
              [10, V],
            ])
          last.push(logits(m.stream, m.pos, m.token, s as Slice));
      return [];
    });
    const p = Pipeline.connect([first, last], twoBoards, { topology: 'chain' });
    const [bad, good] = await Promise.allSettled([p.forward(0, 5, 3), p.forward(1, 7, 2)]);
    expect(bad).toMatchObject({
      status: 'rejected',
      reason: { code: 'BAD_REPLY', details: { board: 1, stream: 0 } },
    });
    expect(good).toEqual({ status: 'fulfilled', value: truth(7, 2) });
  });

  it('non-finite logits: NONFINITE naming the board, stream, position and row', async () => {
    await expectLie(
      (m) => {
        const bad = logits(0, m.pos, m.token, [10, V]) as Extract<Message, { kind: 'logits' }>;
        bad.logits[3] = Number.POSITIVE_INFINITY;
        return [logits(0, m.pos, m.token, [0, 10]), bad];
      },
      {
        code: 'NONFINITE',
        message: expect.stringMatching(/^board 0 \(stream 0, position 3\) sent Infinity in its logits at 13/),
        details: { board: 0, stream: 0, pos: 3, index: 13 },
      },
    );
  });

  it('half an answer, then silence: TIMEOUT naming the board, stream and position; the late rest is dropped', async () => {
    let silent = true;
    const board = fakeBoard({}, (m) => {
      if (m.kind !== 'token') return [];
      const head = logits(m.stream, m.pos, m.token, [0, 10]);
      const rest = logits(m.stream, m.pos, m.token, [10, V]);
      if (m.stream === 1) return [head, rest];
      if (silent) {
        setTimeout(() => board.push(rest), 200); // after the host gave up (150 ms)…
        return [head];
      }
      setTimeout(() => [head, rest].forEach(board.push), 100); // …while it waits for the next position
      return [];
    });
    const p = Pipeline.connect([board], plan, { requestTimeoutMs: 150 });
    const started = performance.now();
    const [bad, good] = await Promise.allSettled([p.forward(0, 5, 3), p.forward(1, 7, 2)]);
    expect(bad).toMatchObject({
      status: 'rejected',
      reason: {
        code: 'TIMEOUT',
        message: expect.stringMatching(/^board 0 did not answer stream 0 at position 3 within 150 ms/),
        details: { board: 0, stream: 0, pos: 3, timeoutMs: 150 },
      },
    });
    expect(performance.now() - started).toBeLessThan(1000);
    expect(good).toEqual({ status: 'fulfilled', value: truth(7, 2) });
    silent = false;
    const next = p.forward(0, 6, 4); // waiting while the late rest of position 3 arrives
    expect(await next).toEqual(truth(6, 4));
    expect(p.stats()[0]!.unsolicited).toBe(1);
  });

  it('a link whose send never completes (no ACK): TIMEOUT all the same', async () => {
    const board = fakeBoard({}, () => []);
    const p = Pipeline.connect([{ ...board, send: () => new Promise<void>(() => {}) }], plan, {
      requestTimeoutMs: 50,
    });
    await expect(p.forward(1, 1, 0)).rejects.toMatchObject({
      code: 'TIMEOUT',
      details: { stream: 1, pos: 0 },
    });
  });

  it('20,000 unsolicited 4 KB answers: counted and dropped, memory stays bounded, other streams fine', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    const board = lyingBoard(() => []);
    const p = Pipeline.connect([board], plan);
    const flood = { kind: 'activation', stream: 0, pos: 0, x: new Float32Array(1020) } as const; // 4,085 bytes
    const used = () => {
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    expect(await p.forward(1, 1, 1)).toEqual(truth(1, 1));
    const before = used();
    for (let batch = 0; batch < 20; batch++) {
      for (let i = 0; i < 1000; i++) board.push({ ...flood, stream: [0, 9, 0xfffe][i % 3]!, pos: i }); // an idle stream, unknown ones
      expect(await p.forward(1, 2, batch)).toEqual(truth(2, batch));
    }
    await new Promise((r) => setTimeout(r, 10)); // the stream's read loop lets go of its last chunk
    used();
    const grown = used() - before;
    expect(p.stats()[0]!.unsolicited).toBe(20_000);
    expect(grown).toBeLessThan(8 * 1024 * 1024); // 20,000 × 4 KB kept would be 82 MB
  });
});
