/** The host link's heartbeat and peer reset (§4.2) and baud switch (§4.3) against a scripted board. */
import {
  createTransportPair,
  encodeFrame,
  FrameType,
  type TinypipeError,
  type Transport,
} from '@tinypipe/protocol';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFaultyLinePair } from '../testing/faulty-line.js';
import { VirtualClock } from '../testing/virtual-clock.js';
import { ReliableLink } from './reliable-link.js';
import { board, helloAck, pong, scriptedPeer } from './scripted-board.test-helper.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('heartbeat (§4.2) and peer reset', () => {
  it('keeps an idle link alive with PING/PONG, and reports TIMEOUT when the board falls silent', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    const [th, tb] = createTransportPair();
    let silent = false;
    const peer = scriptedPeer(tb, (f) => {
      if (f.type === FrameType.HELLO) return [helloAck(0, board)];
      if (f.type === FrameType.PING && !silent) return [pong()];
      return [];
    });
    const connecting = ReliableLink.connect(th, { heartbeatMs: 500, timeoutMs: 2000 });
    await vi.advanceTimersByTimeAsync(10);
    const host = await connecting;
    const failed = host.messages
      .getReader()
      .read()
      .catch((e) => e);
    await vi.advanceTimersByTimeAsync(5000);
    const pings = peer.frames.filter((f) => f.type === FrameType.PING).length;
    expect(pings).toBeGreaterThanOrEqual(9); // one per 500 ms of silence
    silent = true;
    await vi.advanceTimersByTimeAsync(2600);
    const e = await failed;
    expect(e.code).toBe('TIMEOUT');
    expect(await errorCodeOf(() => host.send(Uint8Array.of(1)))).toBe('TIMEOUT');
  });

  it('a host thread busy longer than timeoutMs is not mistaken for a silent board', async () => {
    const clock = new VirtualClock();
    const [th, tb] = createTransportPair();
    let silent = false;
    const peer = scriptedPeer(tb, (f) => {
      if (f.type === FrameType.HELLO) return [helloAck(0, board)];
      return f.type === FrameType.PING && !silent ? [pong()] : [];
    });
    let host: ReliableLink | undefined;
    void ReliableLink.connect(th, { clock, heartbeatMs: 500, timeoutMs: 2000 }).then((l) => (host = l));
    await clock.run(() => host !== undefined);
    let failure: TinypipeError | undefined;
    void host!.messages
      .getReader()
      .read()
      .catch((e) => (failure = e));
    // the board speaks while the host's thread is stuck for 3 s: its bytes wait unread behind the timers
    await peer.send(pong());
    clock.stall(3000);
    const t = clock.now();
    await clock.run(() => failure !== undefined || clock.now() > t + 5000);
    expect(failure).toBeUndefined();
    // a board that really is silent is still caught, stall or not
    silent = true;
    clock.stall(3000);
    await clock.run(() => failure !== undefined, clock.now() + 3000);
    expect(failure?.code).toBe('TIMEOUT');
  });

  it('a board that reboots (new session) fails the host link with PEER_RESET', async () => {
    const [th, tb] = createTransportPair();
    let reply: Uint8Array[] = [];
    scriptedPeer(tb, (f) => (f.type === FrameType.HELLO ? [helloAck(0, board, 0x1111)] : reply));
    const host = await ReliableLink.connect(th);
    reply = [
      encodeFrame({
        type: FrameType.PONG,
        session: 0x2222,
        seq: 0,
        ack: 0,
        sack: 0,
        payload: new Uint8Array(0),
      }),
    ];
    const sending = host.send(Uint8Array.of(7)).catch((e) => e); // provokes an answer from the "rebooted" board
    expect((await sending).code).toBe('PEER_RESET');
    expect((await sending).message).toContain('4369 → 8738');
  });
});

describe('baud switch (§4.3)', () => {
  it('switches both ends when the board accepts the rate', async () => {
    const line = createFaultyLinePair({ baud: 115200 });
    const [host, b] = await Promise.all([
      ReliableLink.connect(line.a, { baud: 921600 }),
      ReliableLink.accept(line.b, board, { acceptBaud: (r) => r }),
    ]);
    expect(line.a.baudRate).toBe(921600);
    expect(line.b.baudRate).toBe(921600);
    const reader = b.messages.getReader();
    await host.send(Uint8Array.of(42));
    expect(Array.from((await reader.read()).value!)).toEqual([42]);
    reader.releaseLock();
    await host.close();
    await b.close();
  });

  it('keeps the rate when the board declines', async () => {
    const line = createFaultyLinePair({ baud: 115200 });
    const [host, b] = await Promise.all([
      ReliableLink.connect(line.a, { baud: 921600 }),
      ReliableLink.accept(line.b, board),
    ]);
    expect(line.a.baudRate).toBe(115200);
    await host.close();
    await b.close();
  });

  it('falls back to the old rate when the new one does not work (no PONG in time)', async () => {
    const line = createFaultyLinePair({ baud: 115200 });
    // the board says yes but its UART cannot do the rate: it stays at 115200
    const b = ReliableLink.accept(
      { ...line.b, setBaudRate: async () => {}, baudRate: 115200 } as Transport,
      board,
      { acceptBaud: (r) => r },
    );
    const host = await ReliableLink.connect(line.a, { baud: 921600, baudProbeMs: 100 });
    expect(line.a.baudRate).toBe(115200);
    const reader = (await b).messages.getReader();
    await host.send(Uint8Array.of(5));
    expect(Array.from((await reader.read()).value!)).toEqual([5]);
    reader.releaseLock();
    await host.close();
    await (await b).close();
  });
});
