import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TinypipeError } from '../errors/tinypipe-error.js';
import {
  checkHello,
  decodeHello,
  encodeHello,
  HELLO_BYTES,
  HELLO_OFFSETS,
  HELLO_PROTOCOL,
  HELLO_V1_BYTES,
  type HelloInfo,
  HelloStatus,
  helloStatusOf,
} from '../hello/hello.js';
import { decodeMessage, encodeMessage, type Message } from './messages.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../../docs/vectors/protocol.json', import.meta.url), 'utf8'),
) as {
  hello: { info: Record<string, unknown>; bytes: string }[];
  helloLayout: { protocol: number; bytes: number; offsets: Record<string, number> };
  messages: { message: Record<string, unknown>; bytes: string }[];
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

const BUILD = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
const board: HelloInfo = {
  protocol: HELLO_PROTOCOL,
  role: 'board',
  board: 1,
  fingerprint: Uint8Array.from({ length: 32 }, (_, i) => i + 1),
  layers: [3, 6],
  vocab: [0, 32000],
  maxPayload: 4096,
  streams: 4,
  caps: { embedding: false, classifier: true, sampler: true, kv: 'fp32' },
  baud: 0,
  build: BUILD,
};
const host: HelloInfo = {
  protocol: HELLO_PROTOCOL,
  role: 'host',
  board: 1,
  fingerprint: board.fingerprint,
  layers: [3, 6],
  vocab: [0, 32000],
  maxPayload: 4096,
  streams: 0,
  caps: { embedding: false, classifier: false, sampler: false },
  baud: 0,
  build: BUILD,
};

describe('HELLO payload (§4.1)', () => {
  it('round-trips, with "any" and "none" as the documented sentinels', () => {
    const bytes = encodeHello(board);
    expect(bytes.length).toBe(HELLO_BYTES);
    expect(decodeHello(bytes)).toEqual(board);
    const any = encodeHello({
      ...host,
      board: undefined,
      fingerprint: undefined,
      layers: undefined,
      vocab: undefined,
    });
    expect(hex(any.subarray(2, 4))).toBe('ffff');
    expect(hex(any.subarray(4, 36))).toBe('00'.repeat(32));
    expect(hex(any.subarray(36, 48))).toBe('ffffffffffffffffffffffff');
    expect(hex(any.subarray(60, 68))).toBe(hex(BUILD));
    expect(decodeHello(any)).toMatchObject({ board: undefined, fingerprint: undefined, layers: undefined });
    const noBuild = encodeHello({ ...host, build: undefined });
    expect(hex(noBuild.subarray(60, 68))).toBe('00'.repeat(8));
    expect(decodeHello(noBuild).build).toBeUndefined();
    expect(() => encodeHello({ ...host, build: new Uint8Array(7) })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('has the layout of docs/vectors/protocol.json (helloLayout), field by field', () => {
    expect(vectors.helloLayout.protocol).toBe(HELLO_PROTOCOL);
    expect(vectors.helloLayout.bytes).toBe(HELLO_BYTES);
    expect(vectors.helloLayout.offsets).toEqual({ ...HELLO_OFFSETS });
    // each field lands at its offset: write a distinct value per field and find it there
    const bytes = encodeHello({ ...board, board: 0x0b0a, layers: [0x1c1b, 0x1e1d], baud: 0x44332211 });
    const at = (name: keyof typeof HELLO_OFFSETS) => vectors.helloLayout.offsets[name] as number;
    expect(bytes[at('protocol')]).toBe(HELLO_PROTOCOL);
    expect(bytes[at('role')]).toBe(1);
    expect(hex(bytes.subarray(at('board'), at('board') + 2))).toBe('0a0b');
    expect(hex(bytes.subarray(at('fingerprint'), at('fingerprint') + 32))).toBe(hex(board.fingerprint!));
    expect(hex(bytes.subarray(at('layerFrom'), at('layerTo') + 2))).toBe('1b1c1d1e');
    expect(hex(bytes.subarray(at('baud'), at('baud') + 4))).toBe('11223344');
    expect(hex(bytes.subarray(at('build'), at('build') + 8))).toBe(hex(BUILD));
  });

  it('matches the byte-level vectors shared with the C firmware', () => {
    expect(vectors.hello.length).toBeGreaterThanOrEqual(2);
    for (const v of vectors.hello) {
      const info = decodeHello(Buffer.from(v.bytes, 'hex'));
      expect(hex(encodeHello(info))).toBe(v.bytes);
      expect(info.role).toBe(v.info.role);
    }
  });

  it('refuses a payload of another size or role with MESSAGE_MALFORMED', () => {
    expect(() => decodeHello(new Uint8Array(59))).toThrow(/68 bytes/);
    expect(() => decodeHello(new Uint8Array(69))).toThrow(
      expect.objectContaining({ code: 'MESSAGE_MALFORMED' }),
    );
    const bad = encodeHello(board);
    bad[1] = 7;
    expect(() => decodeHello(bad)).toThrow(expect.objectContaining({ code: 'MESSAGE_MALFORMED' }));
  });

  it('accepts the expected board and says what differs otherwise', () => {
    expect(checkHello(host, board)).toBeUndefined();
    expect(
      checkHello(
        { ...host, fingerprint: undefined, layers: undefined, vocab: undefined, board: undefined },
        board,
      ),
    ).toBeUndefined();
    const wrongModel = checkHello({ ...host, fingerprint: new Uint8Array(32).fill(0xab) }, board);
    expect(wrongModel?.code).toBe('WRONG_MODEL');
    expect(wrongModel?.message).toContain('abababab');
    expect(wrongModel?.message).toContain('01020304');
    const wrongLayers = checkHello({ ...host, layers: [0, 3] }, board);
    expect(wrongLayers?.code).toBe('WRONG_MODEL');
    expect(wrongLayers?.message).toContain('layers [0, 3) expected, the board holds [3, 6)');
    expect(checkHello({ ...host, vocab: [0, 0] }, board)?.message).toContain('classifier rows');
    expect(checkHello(host, { ...board, fingerprint: undefined })?.message).toContain('holds none');
    const proto = checkHello({ ...host, protocol: 1 }, board);
    expect(proto?.code).toBe('PROTOCOL_MISMATCH');
    expect(proto?.details).toEqual({ expected: 1, actual: 2 });
    expect(helloStatusOf(proto)).toBe(HelloStatus.PROTOCOL_MISMATCH);
    expect(helloStatusOf(wrongModel)).toBe(HelloStatus.WRONG_MODEL);
  });

  it('decodes a protocol-1 (60-byte) HELLO so that the check names both versions', () => {
    const old = encodeHello({ ...board, build: undefined }).subarray(0, HELLO_V1_BYTES);
    old[HELLO_OFFSETS.protocol] = 1;
    const info = decodeHello(old);
    expect(info).toMatchObject({ protocol: 1, board: 1, layers: [3, 6], build: undefined });
    const e = checkHello(host, info);
    expect(e?.code).toBe('PROTOCOL_MISMATCH');
    expect(e?.details).toEqual({ expected: 2, actual: 1 });
  });

  it('refuses a board of another build (MIXED_BUILD, status 3) and accepts any build when none is expected', () => {
    const other = Uint8Array.of(9, 9, 9, 9, 9, 9, 9, 9);
    const e = checkHello(host, { ...board, build: other });
    expect(e?.code).toBe('MIXED_BUILD');
    expect(e?.details).toMatchObject({ expected: '0102030405060708', actual: '0909090909090909' });
    expect(e?.message).toContain('0102030405060708');
    expect(e?.message).toContain('0909090909090909');
    expect(helloStatusOf(e)).toBe(HelloStatus.WRONG_BUILD);
    // a board without a build id (a version-1 image) is refused when a build is expected ...
    expect(checkHello(host, { ...board, build: undefined })?.details).toMatchObject({ actual: 'none' });
    // ... and accepted, like any build, when the host expects none
    expect(checkHello({ ...host, build: undefined }, { ...board, build: undefined })).toBeUndefined();
    expect(checkHello({ ...host, build: undefined }, { ...board, build: other })).toBeUndefined();
    // a wrong model is reported as such even when the build differs too
    expect(checkHello({ ...host, layers: [0, 3] }, { ...board, build: other })?.code).toBe('WRONG_MODEL');
  });
});

const f32 = fc.float({ noNaN: true }).map(Math.fround);
const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    kind: fc.constant('start' as const),
    stream: u16,
    hashes: fc.boolean(),
    sample: fc.boolean(),
    temperature: f32,
    topp: f32,
    seed: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
    sampleFrom: u16,
  }),
  fc.record({ kind: fc.constant('token' as const), stream: u16, pos: u16, token: u32 }),
  fc.record({
    kind: fc.constant('activation' as const),
    stream: u16,
    pos: u16,
    x: fc.array(f32, { maxLength: 300 }).map((a) => Float32Array.from(a)),
  }),
  fc.record({
    kind: fc.constant('logits' as const),
    stream: u16,
    pos: u16,
    vocabFrom: u32,
    logits: fc.array(f32, { maxLength: 100 }).map((a) => Float32Array.from(a)),
  }),
  fc.record({
    kind: fc.constant('hashes' as const),
    stream: u16,
    pos: u16,
    layerFrom: u16,
    hashes: fc.array(u32, { maxLength: 12 }).map((a) => Uint32Array.from(a)),
  }),
  fc.record({ kind: fc.constant('end' as const), stream: u16 }),
  fc.record({
    kind: fc.constant('error' as const),
    stream: fc.option(fc.integer({ min: 0, max: 0xfffe }), { nil: undefined }),
    code: u16,
    text: fc.string(),
  }),
  fc.constant({ kind: 'stats-request' as const }),
  fc.record({
    kind: fc.constant('stats' as const),
    board: u16,
    forwards: u32,
    computeUs: fc.maxSafeNat(),
    framesOut: u32,
    framesIn: u32,
    bytesOut: u32,
    bytesIn: u32,
    retransmits: u32,
    dropped: u32,
  }),
  fc.record({ kind: fc.constant('calibrate-request' as const), budgetMs: u16 }),
  fc.record({
    kind: fc.constant('calibration' as const),
    budgetMs: u16,
    board: u16,
    kernel: u8,
    cores: u8,
    image: fc.boolean(),
    preload: fc.boolean(),
    invalidate: fc.boolean(),
    host: fc.boolean(),
    cpuMhz: u16,
    lineBaud: u32,
    imageBytes: u32,
    readBytes: u32,
    readUs: u32,
    readSum: u32,
    rows: u16,
    cols: u16,
    q4Reps: u32,
    q4Us: u32,
    q8Reps: u32,
    q8Us: u32,
    firstBytes: u32,
    coldReps: u16,
    coldUs: u32,
    preloadedReps: u16,
    preloadedUs: u32,
    preloadUs: u32,
    port: fc.stringMatching(/^[\x20-\x7e]{0,64}$/),
  }),
  fc.record({
    kind: fc.constant('classify' as const),
    stream: u16,
    pos: u16,
    x: fc.array(f32, { maxLength: 16 }).map((a) => Float32Array.from(a)),
  }),
  fc.record({ kind: fc.constant('slice-max' as const), stream: u16, pos: u16, index: u32, value: f32 }),
  fc.record({ kind: fc.constant('histogram-request' as const), stream: u16, pos: u16, max: f32, below: u16 }),
  fc.record({
    kind: fc.constant('histogram' as const),
    stream: u16,
    pos: u16,
    top: u16,
    masses: fc.array(fc.bigInt({ min: 0n, max: 2n ** 200n }), { maxLength: 20 }),
    rest: fc.bigInt({ min: 0n, max: 2n ** 200n }),
  }),
  fc.record({
    kind: fc.constant('draw' as const),
    stream: u16,
    pos: u16,
    max: f32,
    bucket: u16,
    target: fc.bigInt({ min: 0n, max: 2n ** 400n }),
  }),
);

const calibrationOf = (m: Message) => {
  if (m.kind !== 'calibration') throw new Error(`expected a CALIBRATE answer, got ${m.kind}`);
  return m;
};

/** A STATS answer whose u64 compute time is past 2^53 µs decodes saturated (so it re-encodes differently). */
const isSaturated = (m: Message) => m.kind === 'stats' && m.computeUs === Number.MAX_SAFE_INTEGER;

describe('messages (§5)', () => {
  it('decode(encode(m)) == m for every kind', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMessage(encodeMessage(m))).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('matches the byte-level vectors shared with the C firmware', () => {
    // every kind, both STATS and both CALIBRATE, both HISTOGRAMs
    expect(new Set(vectors.messages.map((v) => v.message.kind)).size).toBe(16);
    for (const v of vectors.messages) {
      const m = decodeMessage(Buffer.from(v.bytes, 'hex'));
      expect(m.kind).toBe(v.message.kind);
      expect(hex(encodeMessage(m))).toBe(v.bytes);
      if (m.kind === 'calibrate-request' || m.kind === 'calibration') expect(m).toEqual(v.message); // every field
    }
  });

  it('arbitrary bytes decode to a message or MESSAGE_MALFORMED, never another failure', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          const m = decodeMessage(bytes);
          // integer-only messages are canonical (floats may hold NaN payloads, text may be invalid UTF-8)
          const integers = ['token', 'hashes', 'end', 'stats-request', 'stats', 'histogram'];
          if (integers.includes(m.kind) && !isSaturated(m)) expect(hex(encodeMessage(m))).toBe(hex(bytes));
        } catch (e) {
          expect(TinypipeError.hasCode(e, 'MESSAGE_MALFORMED')).toBe(true);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('says which message is malformed and how', () => {
    expect(() => decodeMessage(Uint8Array.of(2, 0, 0, 1))).toThrow('TOKEN is 9 bytes, got 4');
    expect(() => decodeMessage(Uint8Array.of(3, 0, 0, 0, 0, 1, 2))).toThrow(/whole 4-byte values/);
    expect(() => decodeMessage(Uint8Array.of(99, 0, 0))).toThrow('unknown kind 99');
    expect(() => decodeMessage(Uint8Array.of(13, 0, 0, 1, 0, 0, 0, 1, 0, 0x80))).toThrow(/runs past the end/);
    expect(() => decodeMessage(Uint8Array.of(13, 0, 0, 1, 0, 0, 0, 0, 0, 0x80, 0))).toThrow(/redundant zero/);
    expect(() => decodeMessage(Uint8Array.of(13, 0, 0, 1, 0, 0, 0, 0, 0, 5, 6))).toThrow(/1 bytes after/);
    expect(() => decodeMessage(Uint8Array.of(8, 0, 0))).toThrow('STATS carries stream 0xffff, got 0');
    expect(() => decodeMessage(Uint8Array.of(8, 0xff, 0xff, 1))).toThrow('a STATS answer is 41 bytes, got 4');
    expect(() => decodeMessage(Uint8Array.of(9, 0xff, 0xff, 1))).toThrow(
      'a CALIBRATE answer is 72 to 136 bytes, got 4',
    );
    expect(() => decodeMessage(Uint8Array.of(9, 1, 0, 0, 0))).toThrow(
      'CALIBRATE carries stream 0xffff, got 1',
    );
    const answer = calibrationOf(
      decodeMessage(Uint8Array.from({ length: 72 }, (_, i) => (i === 0 ? 9 : 0xff))),
    );
    expect(() => encodeMessage({ ...answer, port: 'é' })).toThrow(/printable ASCII/);
    expect(() => encodeMessage({ ...answer, cores: 256 })).toThrow('message field cores = 256 is not a u8');
    expect(() => encodeMessage({ kind: 'token', stream: 70000, pos: 0, token: 1 })).toThrow(/not a u16/);
  });
});
