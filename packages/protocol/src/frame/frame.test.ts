import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cobsDecode, cobsEncode } from '../cobs/cobs.js';
import { crc32c } from '../crc32c/crc32c.js';
import {
  decodeBlock,
  encodeFrame,
  type Frame,
  FrameType,
  frameBytes,
  HEADER_BYTES,
  MAX_PAYLOAD,
} from './frame.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../../docs/vectors/protocol.json', import.meta.url), 'utf8'),
);
const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

const frameArb = fc.record({
  type: fc.constantFrom(...Object.values(FrameType)),
  session: fc.integer({ min: 0, max: 0xffff }),
  seq: fc.integer({ min: 0, max: 0xffff }),
  ack: fc.integer({ min: 0, max: 0xffff }),
  sack: fc.integer({ min: 0, max: 0xffff }),
  payload: fc.uint8Array({ maxLength: 1300 }),
}) as fc.Arbitrary<Frame>;

describe('frames', () => {
  it('encode to the shared vectors byte for byte and decode back', () => {
    for (const v of vectors.frames) {
      const frame: Frame = {
        type: v.type,
        session: v.session,
        seq: v.seq,
        ack: v.ack,
        sack: v.sack,
        payload: unhex(v.payload),
      };
      const wire = encodeFrame(frame);
      expect(Buffer.from(wire).toString('hex')).toBe(v.wire);
      expect(wire[0]).toBe(0);
      expect(wire.at(-1)).toBe(0);
      expect(decodeBlock(wire.subarray(1, -1))).toEqual(frame);
    }
  });

  it('the CRC is CRC-32C of header and payload, little-endian, after them (independent check)', () => {
    const v = vectors.frames[1];
    const bytes = cobsDecode(unhex(v.wire).subarray(1, -1));
    const n = bytes.length - 4;
    expect(new DataView(bytes.buffer).getUint32(n, true)).toBe(crc32c(bytes.subarray(0, n)));
    expect(bytes[0]).toBe(1); // version
    expect(new DataView(bytes.buffer).getUint16(10, true)).toBe(n - HEADER_BYTES);
  });

  it('drops each corrupt vector for its stated reason', () => {
    for (const c of vectors.corrupt) expect(decodeBlock(unhex(c.block)), c.name).toBe(c.reason);
  });

  it('round-trips arbitrary frames', () => {
    fc.assert(
      fc.property(frameArb, (f) => {
        expect(decodeBlock(encodeFrame(f).subarray(1, -1))).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });

  it('any single-bit error in a frame is detected (never delivered)', () => {
    fc.assert(
      fc.property(frameArb, fc.nat(), (f, at) => {
        const raw = frameBytes(f);
        const bit = at % (raw.length * 8);
        raw[bit >> 3]! ^= 1 << (bit & 7);
        // COBS-encode the damaged bytes so only the CRC (or a field check) can catch the error
        expect(typeof decodeBlock(cobsEncode(raw))).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('refuses payloads over the maximum with PAYLOAD_TOO_LARGE', () => {
    const f: Frame = {
      type: FrameType.DATA,
      session: 0,
      seq: 0,
      ack: 0,
      sack: 0,
      payload: new Uint8Array(MAX_PAYLOAD + 1),
    };
    expect(() => encodeFrame(f)).toThrow(expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }));
    expect(() => encodeFrame({ ...f, payload: new Uint8Array(1), seq: 70000 })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('decodeBlock never throws on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 5000 }), (block) => {
        const r = decodeBlock(block);
        expect(typeof r === 'string' || typeof r === 'object').toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});
