/**
 * The one place the link builds its frames (docs/protocol.md §4): DATA, ACK, PING and PONG carry the
 * receive window's `ack`/`sack`; HELLO and HELLO_ACK carry none (seq, ack and sack 0).
 */
import { encodeHello, type Frame, FrameType, HELLO_BYTES, type HelloInfo } from '@tinypipe/protocol';

/** Sequence numbers live on the u16 circle. */
export const MOD = 0x10000;
/** a − b on the u16 circle. */
export const diff = (a: number, b: number) => (a - b + MOD) % MOD;

/** What a frame acknowledges: everything before `ack`, and bit i of `sack` for seq ack + 1 + i. */
export interface Acks {
  ack: number;
  sack: number;
}

const NO_ACKS: Acks = { ack: 0, sack: 0 };

/** The acknowledgement of a receive window expecting `expected` and holding the seqs `has` says. */
export function acksOf(expected: number, has: (seq: number) => boolean): Acks {
  let sack = 0;
  for (let i = 0; i < 16; i++) if (has((expected + 1 + i) % MOD)) sack |= 1 << i;
  return { ack: expected, sack };
}

function frame(type: FrameType, session: number, seq: number, acks: Acks, payload: Uint8Array): Frame {
  return { type, session, seq, ack: acks.ack, sack: acks.sack, payload };
}

export const dataFrame = (session: number, seq: number, acks: Acks, payload: Uint8Array): Frame =>
  frame(FrameType.DATA, session, seq, acks, payload);

export const ackFrame = (session: number, acks: Acks): Frame =>
  frame(FrameType.ACK, session, 0, acks, new Uint8Array(0));

export const pingFrame = (session: number, acks: Acks): Frame =>
  frame(FrameType.PING, session, 0, acks, new Uint8Array(0));

export const pongFrame = (session: number, acks: Acks): Frame =>
  frame(FrameType.PONG, session, 0, acks, new Uint8Array(0));

export const helloFrame = (session: number, hello: HelloInfo): Frame =>
  frame(FrameType.HELLO, session, 0, NO_ACKS, encodeHello(hello));

/**
 * The board's answer (§4.1): a status byte, then its HELLO with the rate it accepts. `helloBytes` is the
 * HELLO layout the host decodes (a protocol-1 host is refused in its 60-byte layout).
 */
export function helloAckFrame(
  session: number,
  status: number,
  board: HelloInfo,
  helloBytes: number = HELLO_BYTES,
): Frame {
  const payload = new Uint8Array(1 + helloBytes);
  payload[0] = status;
  payload.set(encodeHello(board).subarray(0, helloBytes), 1);
  return frame(FrameType.HELLO_ACK, session, 0, NO_ACKS, payload);
}
