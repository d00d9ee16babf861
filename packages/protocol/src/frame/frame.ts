/**
 * Frames of the @tinypipe link (docs/protocol.md §3): a 12-byte header, the payload and a CRC-32C over
 * both, COBS-encoded between 0x00 delimiters.
 *
 *   0   u8   version   (PROTOCOL_VERSION)
 *   1   u8   type      (FrameType)
 *   2   u16  session   sender's boot nonce
 *   4   u16  seq       sequence number of a DATA frame (0 otherwise)
 *   6   u16  ack       next DATA seq the sender expects from its peer (cumulative)
 *   8   u16  sack      bit i set: the peer's seq ack+1+i already received (selective repeat)
 *   10  u16  length    payload bytes, ≤ MAX_PAYLOAD
 *   12  …    payload
 *   …   u32  crc32c    of header ‖ payload
 *   (all little-endian)
 */

import { cobsDecode, cobsEncode, cobsMaxEncodedLength } from '../cobs/cobs.js';
import { crc32c } from '../crc32c/crc32c.js';
import { TinypipeError } from '../errors/tinypipe-error.js';
import { PROTOCOL_VERSION } from '../hello/hello.js';

export const HEADER_BYTES = 12;
export const CRC_BYTES = 4;
/** Largest payload: a 768-dim activation (3 KiB) plus its routing header fits with room to spare. */
export const MAX_PAYLOAD = 4096;
/** Largest COBS block a receiver accepts before it gives up on a chunk and waits for the next 0x00. */
export const MAX_ENCODED = cobsMaxEncodedLength(HEADER_BYTES + MAX_PAYLOAD + CRC_BYTES);

export const FrameType = {
  DATA: 1,
  ACK: 2,
  HELLO: 3,
  HELLO_ACK: 4,
  PING: 5,
  PONG: 6,
  RESET: 7,
} as const;
export type FrameType = (typeof FrameType)[keyof typeof FrameType];
const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

export interface Frame {
  type: FrameType;
  session: number;
  seq: number;
  ack: number;
  sack: number;
  payload: Uint8Array;
}

const u16 = (name: string, v: number) => {
  if (!Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new TinypipeError('INVALID_ARGUMENT', `frame ${name} ${v} is not a u16`);
};

/** header ‖ payload ‖ crc32c, before COBS. */
export function frameBytes(f: Frame): Uint8Array {
  if (f.payload.length > MAX_PAYLOAD) {
    throw new TinypipeError(
      'PAYLOAD_TOO_LARGE',
      `payload of ${f.payload.length} bytes exceeds the maximum ${MAX_PAYLOAD}; split it`,
      {
        details: { length: f.payload.length, max: MAX_PAYLOAD },
      },
    );
  }
  if (!KNOWN_TYPES.has(f.type)) throw new TinypipeError('INVALID_ARGUMENT', `unknown frame type ${f.type}`);
  u16('session', f.session);
  u16('seq', f.seq);
  u16('ack', f.ack);
  u16('sack', f.sack);
  const out = new Uint8Array(HEADER_BYTES + f.payload.length + CRC_BYTES);
  const v = new DataView(out.buffer);
  v.setUint8(0, PROTOCOL_VERSION);
  v.setUint8(1, f.type);
  v.setUint16(2, f.session, true);
  v.setUint16(4, f.seq, true);
  v.setUint16(6, f.ack, true);
  v.setUint16(8, f.sack, true);
  v.setUint16(10, f.payload.length, true);
  out.set(f.payload, HEADER_BYTES);
  v.setUint32(
    HEADER_BYTES + f.payload.length,
    crc32c(out.subarray(0, HEADER_BYTES + f.payload.length)),
    true,
  );
  return out;
}

/** The bytes on the wire: 0x00, COBS(frame bytes), 0x00. The leading 0x00 ends any garbage before it. */
export function encodeFrame(f: Frame): Uint8Array {
  const body = cobsEncode(frameBytes(f));
  const out = new Uint8Array(body.length + 2);
  out.set(body, 1);
  return out;
}

/** Why a received block was dropped. */
export type DropReason = 'cobs' | 'short' | 'length' | 'crc' | 'version' | 'type' | 'oversize';

/** Decodes one block between delimiters: the frame, or why it is not one. Never throws. */
export function decodeBlock(block: Uint8Array): Frame | DropReason {
  if (block.length > MAX_ENCODED) return 'oversize';
  let bytes: Uint8Array;
  try {
    bytes = cobsDecode(block);
  } catch {
    return 'cobs';
  }
  if (bytes.length < HEADER_BYTES + CRC_BYTES) return 'short';
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = v.getUint16(10, true);
  if (length > MAX_PAYLOAD || bytes.length !== HEADER_BYTES + length + CRC_BYTES) return 'length';
  if (crc32c(bytes.subarray(0, HEADER_BYTES + length)) !== v.getUint32(HEADER_BYTES + length, true))
    return 'crc';
  if (v.getUint8(0) !== PROTOCOL_VERSION) return 'version';
  const type = v.getUint8(1);
  if (!KNOWN_TYPES.has(type)) return 'type';
  return {
    type: type as FrameType,
    session: v.getUint16(2, true),
    seq: v.getUint16(4, true),
    ack: v.getUint16(6, true),
    sack: v.getUint16(8, true),
    payload: bytes.slice(HEADER_BYTES, HEADER_BYTES + length),
  };
}
