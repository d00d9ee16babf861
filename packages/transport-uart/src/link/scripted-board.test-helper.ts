/**
 * A scripted board for the host link's tests (handshake.test.ts, heartbeat.test.ts): its HELLO, a peer that
 * answers each decoded frame with raw frames, and the HELLO_ACK and PONG it sends.
 */
import {
  encodeFrame,
  encodeHello,
  type Frame,
  FrameDecoder,
  FrameType,
  HELLO_BYTES,
  type HelloInfo,
  type Transport,
} from '@tinypipe/protocol';
import { boardHello } from '../testing/board-hello.js';

export const fingerprint = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
export const board = boardHello({
  fingerprint,
  layers: [0, 5],
  vocab: [0, 512],
  streams: 2,
  caps: { embedding: true, classifier: true, sampler: true, kv: 'fp32' },
});

/** A scripted peer: answers every frame it decodes with what `answer` returns (raw frames). */
export function scriptedPeer(
  t: Transport,
  answer: (f: Frame) => Uint8Array[],
): { frames: Frame[]; send: (bytes: Uint8Array) => Promise<void> } {
  const seen: Frame[] = [];
  const writer = t.writable.getWriter();
  const decoder = new FrameDecoder((f) => {
    seen.push(f);
    for (const bytes of answer(f)) void writer.write(bytes).catch(() => {});
  });
  void (async () => {
    const reader = t.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      decoder.push(value);
    }
  })();
  return { frames: seen, send: (bytes) => writer.write(bytes) };
}

export const helloAck = (
  status: number,
  info: HelloInfo,
  session = 0x5151,
  helloBytes = HELLO_BYTES,
): Uint8Array => {
  const payload = new Uint8Array(1 + helloBytes);
  payload[0] = status;
  payload.set(encodeHello(info).subarray(0, helloBytes), 1);
  return encodeFrame({ type: FrameType.HELLO_ACK, session, seq: 0, ack: 0, sack: 0, payload });
};

/** The scripted board's answer to a PING. */
export const pong = () =>
  encodeFrame({ type: FrameType.PONG, session: 0x5151, seq: 0, ack: 0, sack: 0, payload: new Uint8Array(0) });
