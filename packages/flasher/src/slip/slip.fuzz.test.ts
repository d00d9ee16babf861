/**
 * Property-based fuzzing of the SLIP decoder and the ROM / stub response parsers behind it (issue 17,
 * item 6). Replay a failure with the seed fast-check prints: `FC_SEED=<seed> npx vitest run src/slip`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodePacket } from '../protocol/commands.js';
import { parseMd5 } from '../protocol/layouts.js';
import { type LoaderKind, readStatus, STATUS_BYTES } from '../protocol/status.js';
import { SlipDecoder, slipEncode } from './slip.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

const concat = (parts: readonly Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Cuts `bytes` into chunks at the cut points. */
function chunked(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(from, c));
    from = c;
  }
  return out;
}

function decodeAll(chunks: readonly Uint8Array[], maxBytes?: number): Uint8Array[] {
  const packets: Uint8Array[] = [];
  const d = new SlipDecoder((p) => packets.push(p), maxBytes);
  for (const c of chunks) d.push(c);
  return packets;
}

/** Does `needle` occur in `hay` as a contiguous run? */
function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let k = 0; k < needle.length; k++) if (hay[i + k] !== needle[k]) continue outer;
    return true;
  }
  return false;
}

/** Line bytes rich in the SLIP specials. */
const lineBytes = fc.oneof(
  fc.uint8Array({ maxLength: 600 }),
  fc
    .array(fc.constantFrom(0xc0, 0xdb, 0xdc, 0xdd, 0x01, 0x41), { maxLength: 600 })
    .map((a) => Uint8Array.from(a)),
);

describe('SLIP decoder (fuzz)', () => {
  it('arbitrary line bytes in any chunking: every packet is non-empty, within maxBytes, and was on the line whole', () => {
    fc.assert(
      fc.property(
        lineBytes,
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (bytes, cuts, max) => {
          const packets = decodeAll(chunked(bytes, cuts), max);
          expect(packets).toEqual(decodeAll([bytes], max)); // chunking does not matter
          for (const p of packets) {
            expect(p.length).toBeGreaterThan(0);
            expect(p.length).toBeLessThanOrEqual(max);
            // its canonical encoding, both delimiters included, is on the line as it is
            expect(contains(bytes, slipEncode(p))).toBe(true);
          }
        },
      ),
      runs(3000),
    );
  });

  it('round trip: packets after a boot log, back to back, in any chunking, come out as sent', () => {
    // (bytes between two packets are a packet to SLIP: only what precedes the first 0xC0 is dropped)
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 60 }).map((n) => n.filter((b) => b !== 0xc0)),
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 200 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 20 }),
        (bootLog, packets, cuts) => {
          const line = concat([bootLog, ...packets.map(slipEncode)]);
          expect(decodeAll(chunked(line, cuts))).toEqual(packets);
        },
      ),
      runs(1500),
    );
  });

  it('mutations: a flipped or cut encoded packet yields at most packets that were on the line whole', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.nat(),
        (p, at, bit, cut) => {
          const wire = slipEncode(p).slice();
          wire[at % wire.length]! ^= 1 << bit;
          for (const line of [wire, slipEncode(p).subarray(0, cut % (wire.length + 1))])
            for (const q of decodeAll([line])) expect(contains(line, slipEncode(q))).toBe(true);
        },
      ),
      runs(3000),
    );
  });

  it('regression: escaped bytes count against maxBytes (a line of 0xDB 0xDC pairs cannot grow a packet)', () => {
    // found by the fuzzer: only unescaped bytes were checked against maxBytes
    const line = concat([
      Uint8Array.of(0xc0),
      ...Array.from({ length: 100 }, () => Uint8Array.of(0xdb, 0xdc)),
      Uint8Array.of(0xc0),
    ]);
    expect(decodeAll([line], 64)).toEqual([]);
    expect(decodeAll([line], 100)).toEqual([new Uint8Array(100).fill(0xc0)]);
  });

  it('regression: a packet that ends inside an escape (0xDB 0xC0) is dropped, not delivered short', () => {
    // found by the fuzzer: the dangling escape was forgotten and the bytes before it delivered
    expect(decodeAll([Uint8Array.of(0xc0, 0x01, 0x02, 0xdb, 0xc0)])).toEqual([]);
    // the 0xC0 still starts the next packet
    expect(decodeAll([Uint8Array.of(0xc0, 0x01, 0xdb, 0xc0, 0x07, 0xc0)])).toEqual([Uint8Array.of(0x07)]);
  });
});

/** A response packet as the ROM or stub sends it (before SLIP). */
function response(op: number, value: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + body.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, 0x01);
  v.setUint8(1, op);
  v.setUint16(2, body.length, true);
  v.setUint32(4, value, true);
  out.set(body, 8);
  return out;
}

describe('bootloader response parsers (fuzz)', () => {
  it('arbitrary packets: a response whose body is exactly its size field, or undefined', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (p) => {
        const r = decodePacket(p);
        if (r === undefined) return;
        expect(p[0]).toBe(0x01);
        expect(r.body.length).toBe(new DataView(p.buffer, p.byteOffset).getUint16(2, true));
        expect(response(r.op, r.value, r.body)).toEqual(p.subarray(0, 8 + r.body.length));
      }),
      runs(3000),
    );
  });

  it('round trip: a response decodes to what was sent, and its status reads for either loader', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 255 }),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.uint8Array({ maxLength: 80 }),
        fc.constantFrom<LoaderKind>('rom', 'stub'),
        (op, value, body, kind) => {
          const r = decodePacket(response(op, value, body));
          expect(r).toEqual({ op, value, body });
          const s = readStatus(body, kind);
          if (body.length < STATUS_BYTES[kind]) expect(s).toBeUndefined();
          else {
            expect(s).toBeDefined();
            expect(s!.data.length + s!.bytes.length).toBe(body.length);
            expect(s!.ok).toBe(body[body.length - STATUS_BYTES[kind]] === 0);
            expect(Number.isInteger(s!.code) && s!.code >= 0 && s!.code <= 255).toBe(true);
            if (s!.ok) expect(s!.code).toBe(0);
          }
        },
      ),
      runs(2000),
    );
  });

  it('MD5 answers: 32 hex digits from the ROM, 16 raw bytes from the stub, anything else undefined', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 40 }),
          fc.stringMatching(/^[0-9a-fA-F]{32}$/).map((s) => new TextEncoder().encode(s)),
          fc.uint8Array({ minLength: 16, maxLength: 16 }),
        ),
        (data) => {
          const rom = parseMd5('rom', data);
          const stub = parseMd5('stub', data);
          if (rom !== undefined) expect(rom).toBe(new TextDecoder().decode(data).toLowerCase());
          expect(rom === undefined || /^[0-9a-f]{32}$/.test(rom)).toBe(true);
          if (data.length === 16) expect(stub).toBe(Buffer.from(data).toString('hex'));
          else expect(stub).toBeUndefined();
        },
      ),
      runs(2000),
    );
  });
});
