import { QuantEngine, splitSelections } from '@tinypipe/core';
import { tinyQuantizedModel } from '@tinypipe/core/testing';
import { decodeMessage, encodeMessage, type Message } from '@tinypipe/protocol';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { memoryBoard } from './memory-board.js';

const qm = tinyQuantizedModel('q8');

/** The next `n` messages `link` delivers. */
async function read(link: { messages: ReadableStream<Uint8Array> }, n: number) {
  const reader = link.messages.getReader();
  const got: Message[] = [];
  while (got.length < n) got.push(decodeMessage((await reader.read()).value!));
  reader.releaseLock();
  return got;
}

describe('memoryBoard', () => {
  it('reports its stage in HELLO and answers TOKEN → ACTIVATION → LOGITS with the numbers of QuantEngine', async () => {
    const [first, last] = splitSelections(qm.config, [1, 1], 1).map((s, i) =>
      memoryBoard(qm, s, { board: i }),
    );
    const a = first!.connect();
    const b = last!.connect();
    expect(a.peer).toMatchObject({ board: 0, layers: [0, 1], vocab: [0, 0], caps: { embedding: true } });
    expect(b.peer).toMatchObject({ board: 1, layers: [1, 2], vocab: [0, 64], caps: { sampler: true } });
    expect(b.peer!.fingerprint).toEqual(qm.fingerprint);
    const engine = QuantEngine.fromModel(qm);
    for (const [pos, token] of [5, 9, 2].entries()) {
      await a.send(encodeMessage({ kind: 'token', stream: 1, pos, token }));
      const [act] = await read(a, 1);
      expect(act).toMatchObject({ kind: 'activation', stream: 1, pos });
      await b.send(encodeMessage({ kind: 'activation', stream: 1, pos, x: (act as { x: Float32Array }).x }));
      const [logits] = await read(b, 1);
      expect(logits).toMatchObject({ kind: 'logits', stream: 1, pos, vocabFrom: 0 });
      expect(Array.from((logits as { logits: Float32Array }).logits)).toEqual(
        Array.from(engine.forward(token, pos)),
      );
    }
    expect(first!.forwards).toBe(3);
  });

  it('answers ERROR like the C board: a stream past its room, sampling without the whole classifier', async () => {
    const board = memoryBoard(qm, splitSelections(qm.config, [1, 1], 1)[0]!, { streams: 1 });
    const link = board.connect();
    await link.send(encodeMessage({ kind: 'token', stream: 1, pos: 0, token: 1 }));
    const start = { temperature: 1, topp: 0.9, seed: 1n, sampleFrom: 0, hashes: false, sample: true };
    await link.send(encodeMessage({ kind: 'start', stream: 0, ...start }));
    expect(await read(link, 2)).toMatchObject([
      { kind: 'error', stream: 1, code: 12 },
      { kind: 'error', stream: 0, code: 13 },
    ]);
  });

  it('reset fails its link with PEER_RESET; connect gives a new one; a stalled board answers once woken', async () => {
    const board = memoryBoard(qm, { layers: [0, 2], embedding: true, classifier: true });
    const old = board.connect();
    board.reset();
    expect(await errorCodeOf(() => old.send(new Uint8Array([2])))).toBe('PEER_RESET');
    expect(await errorCodeOf(() => old.messages.getReader().read())).toBe('PEER_RESET');
    const link = board.connect();
    board.stall();
    await link.send(encodeMessage({ kind: 'token', stream: 0, pos: 0, token: 3 }));
    await new Promise((r) => setTimeout(r, 20));
    expect(board.forwards).toBe(0);
    board.wake();
    expect(await read(link, 1)).toMatchObject([{ kind: 'logits', pos: 0 }]);
    board.dropLink();
    expect(await errorCodeOf(() => link.send(new Uint8Array([2])))).toBe('PORT_DISCONNECTED');
  });
});
