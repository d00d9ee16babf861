/**
 * Writes docs/vectors/protocol.json: COBS cases, frames with their exact wire bytes, and corrupt blocks
 * with the reason a receiver drops them — read by the TS tests (and the firmware's, for the C side).
 * Run: npx tsx scripts/protocol-vectors.ts (the tests recompute every vector, so a stale file fails).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { crc32c } from '@tinypipe/core';
import { cobsEncode } from '../src/cobs/cobs.js';
import { decodeBlock, encodeFrame, type Frame, FrameType, frameBytes } from '../src/frame/frame.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytes = (n: number, f: (i: number) => number) => Uint8Array.from({ length: n }, (_, i) => f(i));

const cobsInputs: Uint8Array[] = [
  new Uint8Array(0),
  Uint8Array.of(0),
  Uint8Array.of(0, 0),
  Uint8Array.of(0x11, 0x22, 0x00, 0x33),
  Uint8Array.of(0x11, 0x22, 0x33, 0x44),
  Uint8Array.of(0x11, 0x00, 0x00, 0x00),
  bytes(254, (i) => i + 1),
  bytes(255, (i) => (i % 255) + 1),
  bytes(255, (i) => i),
  bytes(600, (i) => (i * 7) % 256),
];
const cobs = cobsInputs.map((b) => ({ decoded: hex(b), encoded: hex(cobsEncode(b)) }));

const frames: Frame[] = [
  {
    type: FrameType.HELLO,
    session: 0x1234,
    seq: 0,
    ack: 0,
    sack: 0,
    payload: new TextEncoder().encode('tinypipe'),
  },
  { type: FrameType.DATA, session: 0xbeef, seq: 7, ack: 3, sack: 0b101, payload: bytes(16, (i) => i) },
  { type: FrameType.ACK, session: 1, seq: 0, ack: 65535, sack: 0xffff, payload: new Uint8Array(0) },
  { type: FrameType.DATA, session: 2, seq: 1, ack: 0, sack: 0, payload: bytes(1152, (i) => (i * 31) & 0xff) },
];
const frameVectors = frames.map((f) => ({
  type: f.type,
  session: f.session,
  seq: f.seq,
  ack: f.ack,
  sack: f.sack,
  payload: hex(f.payload),
  wire: hex(encodeFrame(f)),
}));

const good = encodeFrame(frames[1]!).subarray(1, -1); // the COBS block of a DATA frame
const flip = (b: Uint8Array, at: number, mask: number) => {
  const c = b.slice();
  c[at]! ^= mask;
  return c;
};
/** A frame's bytes changed by `edit`, with the CRC recomputed so later checks are reached. */
function withCrc(b: Uint8Array, edit: (b: Uint8Array) => void): Uint8Array {
  const c = b.slice();
  edit(c);
  new DataView(c.buffer).setUint32(c.length - 4, crc32c(c.subarray(0, c.length - 4)), true);
  return c;
}
const corrupt = [
  { name: 'one bit of the payload flipped', block: flip(good, 20, 0x04) },
  { name: 'cut short', block: good.subarray(0, good.length - 3) },
  { name: 'a COBS code runs past the end', block: Uint8Array.of(0x05, 0x01, 0x02) },
  { name: 'too short for a header', block: cobsEncode(Uint8Array.of(1, 2, 3)) },
  {
    name: 'protocol version 2 (valid CRC)',
    block: cobsEncode(
      withCrc(frameBytes(frames[0]!), (b) => {
        b[0] = 2;
      }),
    ),
  },
  {
    name: 'unknown frame type 99 (valid CRC)',
    block: cobsEncode(
      withCrc(frameBytes(frames[0]!), (b) => {
        b[1] = 99;
      }),
    ),
  },
].map((c) => ({ name: c.name, block: hex(c.block), reason: decodeBlock(c.block) as string }));

const out = {
  spec: 'docs/protocol.md',
  version: 1,
  crc32cCheck: { ascii: '123456789', crc: 'e3069283' },
  cobs,
  frames: frameVectors,
  corrupt,
};
writeFileSync(
  fileURLToPath(new URL('../../../docs/vectors/protocol.json', import.meta.url)),
  `${JSON.stringify(out, null, 1)}\n`,
);
console.log(`wrote ${cobs.length} COBS, ${frameVectors.length} frame and ${corrupt.length} corrupt vectors`);
