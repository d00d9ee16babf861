/** The host link's handshake (docs/protocol.md §4.1) against a scripted board: accept, refuse, time out. */
import {
  cobsEncode,
  crc32c,
  createTransportPair,
  decodeHello,
  encodeFrame,
  encodeHello,
  type Frame,
  FrameType,
  frameBytes,
  HELLO_BYTES,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type TinypipeError,
} from '@tinypipe/protocol';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFaultyLinePair } from '../testing/faulty-line.js';
import { ReliableLink } from './reliable-link.js';
import { board, fingerprint, helloAck, scriptedPeer } from './scripted-board.test-helper.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('handshake (docs/protocol.md §4.1)', () => {
  it('connects a host to the board it expects; both see each other; messages flow', async () => {
    const [th, tb] = createTransportPair();
    const [host, boardLink] = await Promise.all([
      ReliableLink.connect(th, { expect: { fingerprint, layers: [0, 5], board: 0 } }),
      ReliableLink.accept(tb, board),
    ]);
    expect(host.peer).toEqual(board);
    expect(boardLink.peer?.role).toBe('host');
    expect(boardLink.peer?.fingerprint).toEqual(fingerprint);
    const reader = boardLink.messages.getReader();
    await host.send(Uint8Array.of(1, 2, 3));
    expect(Array.from((await reader.read()).value!)).toEqual([1, 2, 3]);
    reader.releaseLock();
    await host.close();
    await boardLink.close();
  });

  it('refuses a board with another model on both ends, saying what each holds', async () => {
    const [th, tb] = createTransportPair();
    const refusals: TinypipeError[] = [];
    void ReliableLink.accept(tb, board, { onRefused: (e) => refusals.push(e) }).catch(() => {});
    const wrong = new Uint8Array(32).fill(0xee);
    const error = await ReliableLink.connect(th, { expect: { fingerprint: wrong } }).catch((e) => e);
    expect(error.code).toBe('WRONG_MODEL');
    expect(error.message).toContain('eeeeeeee');
    expect(error.message).toContain('40414243');
    expect(refusals[0]?.code).toBe('WRONG_MODEL');
    await tb.close();
  });

  it('refuses the wrong layer range, and the wrong board index', async () => {
    for (const expect_ of [{ layers: [5, 8] as const }, { board: 3 }]) {
      const [th, tb] = createTransportPair();
      void ReliableLink.accept(tb, board).catch(() => {});
      expect(await errorCodeOf(() => ReliableLink.connect(th, { expect: expect_ }))).toBe('WRONG_MODEL');
      await tb.close();
    }
  });

  it('the host refuses a board that accepts what it should not (it checks the HELLO_ACK itself)', async () => {
    const [th, tb] = createTransportPair();
    scriptedPeer(tb, (f) => (f.type === FrameType.HELLO ? [helloAck(0, { ...board, layers: [1, 2] })] : []));
    const e = await ReliableLink.connect(th, { expect: { layers: [0, 5] } }).catch((x) => x);
    expect(e.code).toBe('WRONG_MODEL');
    expect(e.message).toContain('the board holds [1, 2)');
  });

  it('a board of another protocol version: PROTOCOL_MISMATCH at the host, status 1 at the board', async () => {
    // (a) a protocol-1 board: its HELLO_ACK carries the 60-byte HELLO of protocol 1
    const [th, tb] = createTransportPair();
    scriptedPeer(tb, (f) =>
      f.type === FrameType.HELLO ? [helloAck(1, { ...board, protocol: 1 }, 0x5151, HELLO_V1_BYTES)] : [],
    );
    const e = await ReliableLink.connect(th).catch((x) => x);
    expect(e.code).toBe('PROTOCOL_MISMATCH');
    expect(e.details).toEqual({ expected: 2, actual: 1 });

    // (b) the board answers in frame version 2
    const [th2, tb2] = createTransportPair();
    scriptedPeer(tb2, (f) => {
      if (f.type !== FrameType.HELLO) return [];
      const body = frameBytes({
        type: FrameType.HELLO_ACK,
        session: 9,
        seq: 0,
        ack: 0,
        sack: 0,
        payload: new Uint8Array(1 + HELLO_BYTES),
      });
      body[0] = 2;
      new DataView(body.buffer).setUint32(body.length - 4, crc32c(body.subarray(0, body.length - 4)), true);
      return [Uint8Array.of(0, ...cobsEncode(body), 0)];
    });
    expect(await errorCodeOf(() => ReliableLink.connect(th2))).toBe('PROTOCOL_MISMATCH');

    // (c) a protocol-1 host (60-byte HELLO) reaches a TS board: the board answers status 1, in the
    // 60-byte layout that host decodes, and reports the refusal
    const [th3, tb3] = createTransportPair();
    const refusals: TinypipeError[] = [];
    void ReliableLink.accept(tb3, board, { onRefused: (x) => refusals.push(x) }).catch(() => {});
    const hello = encodeHello({
      ...board,
      role: 'host',
      protocol: 1,
      fingerprint: undefined,
      layers: undefined,
      vocab: undefined,
      board: undefined,
    }).subarray(0, HELLO_V1_BYTES);
    const answers: Frame[] = [];
    const peer = scriptedPeer(th3, () => []);
    await peer.send(
      encodeFrame({ type: FrameType.HELLO, session: 1, seq: 0, ack: 0, sack: 0, payload: hello }),
    );
    await vi.waitFor(() => expect(peer.frames.length).toBe(1));
    answers.push(...peer.frames);
    expect(answers[0]!.type).toBe(FrameType.HELLO_ACK);
    expect(answers[0]!.payload[0]).toBe(1);
    expect(answers[0]!.payload.length).toBe(1 + HELLO_V1_BYTES);
    expect(decodeHello(answers[0]!.payload.subarray(1)).protocol).toBe(HELLO_PROTOCOL);
    expect(refusals[0]?.code).toBe('PROTOCOL_MISMATCH');
    await Promise.all([th3.close(), tb3.close()]);
  });

  it('a board of another build: MIXED_BUILD at the host, status 3 at the board; any build when none is expected', async () => {
    const mine = Uint8Array.of(1, 1, 1, 1, 2, 2, 2, 2);
    const theirs = Uint8Array.of(3, 3, 3, 3, 4, 4, 4, 4);
    const [th, tb] = createTransportPair();
    const refusals: TinypipeError[] = [];
    void ReliableLink.accept(tb, { ...board, build: theirs }, { onRefused: (x) => refusals.push(x) }).catch(
      () => {},
    );
    const e = await ReliableLink.connect(th, { expect: { build: mine }, handshakeTimeoutMs: 500 }).catch(
      (x) => x,
    );
    expect(e.code).toBe('MIXED_BUILD');
    expect(e.details).toMatchObject({ expected: '0101010102020202', actual: '0303030304040404' });
    expect(refusals[0]?.code).toBe('MIXED_BUILD');
    await Promise.all([th.close(), tb.close()]);

    // the board's status alone is enough: a board that refuses with status 3 is MIXED_BUILD at the host
    const [th2, tb2] = createTransportPair();
    scriptedPeer(tb2, (f) => (f.type === FrameType.HELLO ? [helloAck(3, { ...board, build: mine })] : []));
    expect(await errorCodeOf(() => ReliableLink.connect(th2, { expect: { build: mine } }))).toBe(
      'MIXED_BUILD',
    );

    // no expected build: the board's build is reported (peer.build), not checked
    const [th3, tb3] = createTransportPair();
    const accepted = ReliableLink.accept(tb3, { ...board, build: theirs });
    const host = await ReliableLink.connect(th3);
    expect([...(host.peer?.build ?? [])]).toEqual([...theirs]);
    await accepted;
    await Promise.all([th3.close(), tb3.close()]);
  });

  it('gives up with TIMEOUT when nothing answers HELLO, after resending it', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    const [th, tb] = createTransportPair();
    const peer = scriptedPeer(tb, () => []);
    const connecting = ReliableLink.connect(th, { handshakeTimeoutMs: 1000, helloIntervalMs: 100 }).catch(
      (e) => e,
    );
    await vi.advanceTimersByTimeAsync(1100);
    const e = await connecting;
    expect(e.code).toBe('TIMEOUT');
    expect(e.message).toContain('no answer to HELLO within 1000 ms');
    expect(peer.frames.filter((f) => f.type === FrameType.HELLO).length).toBeGreaterThanOrEqual(10);
  });

  it('survives lost HELLOs and HELLO_ACKs on a noisy line', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    const line = createFaultyLinePair({ ber: 2e-3, seed: 3 }); // ≈ 40 % of 70-byte frames damaged
    const both = Promise.all([
      ReliableLink.connect(line.a, { handshakeTimeoutMs: 5000 }),
      ReliableLink.accept(line.b, board),
    ]);
    await vi.advanceTimersByTimeAsync(5000);
    const [host, b] = await both;
    expect(host.peer?.fingerprint).toEqual(fingerprint);
    await host.close();
    await b.close();
  });
});
