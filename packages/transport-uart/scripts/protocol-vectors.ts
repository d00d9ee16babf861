/**
 * Writes docs/vectors/protocol.json: COBS cases, frames with their exact wire bytes, corrupt blocks with
 * the reason a receiver drops them, HELLO payloads and their layout, and one message of each kind — read
 * by the TS tests (and the firmware's, for the C side). Run: npx tsx scripts/protocol-vectors.ts
 * It writes the whole file, formatted as biome formats it; src/protocol-vectors.test.ts fails when the
 * committed file differs from what this produces (and the codec tests recompute every vector).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  cobsEncode,
  crc32c,
  decodeBlock,
  encodeFrame,
  encodeHello,
  encodeMessage,
  type Frame,
  FrameType,
  frameBytes,
  HELLO_BYTES,
  HELLO_OFFSETS,
  HELLO_PROTOCOL,
  type HelloInfo,
  type Message,
} from '@tinypipe/protocol';

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

// §4.1 handshake payloads and §5 messages: one of each kind, with awkward values (negative zero, the
// largest u16/u32, a 64-bit seed, non-ASCII text)
const hellos: HelloInfo[] = [
  {
    protocol: HELLO_PROTOCOL,
    role: 'host',
    board: undefined,
    fingerprint: bytes(32, (i) => 0xa0 + i),
    layers: undefined,
    vocab: undefined,
    maxPayload: 4096,
    streams: 0,
    caps: { embedding: false, classifier: false, sampler: false, kv: 'fp32' },
    baud: 2_000_000,
    build: undefined,
  },
  {
    protocol: HELLO_PROTOCOL,
    role: 'board',
    board: 2,
    fingerprint: bytes(32, (i) => 0xa0 + i),
    layers: [3, 6],
    vocab: [0, 512],
    maxPayload: 4096,
    streams: 4,
    caps: { embedding: false, classifier: true, sampler: true, kv: 'fp32' },
    baud: 0,
    build: bytes(8, (i) => 0xc0 + i),
  },
  // caps bits 3–4: the KV cache format (docs/numerics.md §6b), fp16 and int8
  ...(['fp16', 'int8'] as const).map(
    (kv, i): HelloInfo => ({
      protocol: HELLO_PROTOCOL,
      role: 'board',
      board: i,
      fingerprint: bytes(32, (j) => 0xa0 + j),
      layers: [0, 3],
      vocab: [0, 0],
      maxPayload: 4096,
      streams: 6 + i,
      caps: { embedding: true, classifier: false, sampler: false, kv },
      baud: 0,
      build: bytes(8, (j) => 0xc0 + j),
    }),
  ),
];
const hello = hellos.map((info) => ({
  info: {
    ...info,
    board: info.board ?? null,
    fingerprint: info.fingerprint ? hex(info.fingerprint) : null,
    layers: info.layers ?? null,
    vocab: info.vocab ?? null,
    build: info.build ? hex(info.build) : null,
  },
  bytes: hex(encodeHello(info)),
}));
const messageCases: Message[] = [
  {
    kind: 'start',
    stream: 1,
    hashes: true,
    sample: true,
    temperature: 0.8,
    topp: 0.9,
    seed: 0xfedcba9876543210n,
    sampleFrom: 4,
  },
  { kind: 'token', stream: 0, pos: 65535, token: 31999 },
  { kind: 'activation', stream: 2, pos: 7, x: Float32Array.of(1, -0, 0.1, -3.5e-40, 65504, -1e30) },
  { kind: 'logits', stream: 0, pos: 1, vocabFrom: 256, logits: Float32Array.of(-2.25, 10, 0) },
  { kind: 'hashes', stream: 0, pos: 3, layerFrom: 2, hashes: Uint32Array.of(0x811c9dc5, 0xffffffff) },
  { kind: 'end', stream: 65535 },
  { kind: 'error', stream: undefined, code: 12, text: 'TP_E_ARG: token 99999 ≥ vocab 512' },
  { kind: 'stats-request' },
  {
    kind: 'stats',
    board: 4,
    forwards: 4_294_967_295,
    computeUs: 2 ** 40 + 3, // more than 32 bits: the u64's high word matters
    framesOut: 1,
    framesIn: 2,
    bytesOut: 65_536,
    bytesIn: 70_000,
    retransmits: 7,
    dropped: 0,
  },
  { kind: 'calibrate-request', budgetMs: 500 },
  {
    kind: 'calibration',
    budgetMs: 500,
    board: 1,
    kernel: 1,
    cores: 2,
    image: true,
    preload: true,
    invalidate: true,
    host: false,
    cpuMhz: 240,
    lineBaud: 2_000_000,
    imageBytes: 4_718_592,
    readBytes: 4_718_592,
    readUs: 181_000,
    readSum: 0xdeadbeef,
    rows: 16,
    cols: 256,
    q4Reps: 2400,
    q4Us: 500_123,
    q8Reps: 4096,
    q8Us: 500_456,
    firstBytes: 32_768,
    coldReps: 390,
    coldUs: 499_000,
    preloadedReps: 3900,
    preloadedUs: 120_000,
    preloadUs: 380_000,
    port: 'esp-idf v5.3.1 esp32s3',
  },
  // a split classifier sampling with the host (docs/protocol.md §5.3)
  {
    kind: 'start',
    stream: 3,
    hashes: false,
    sample: false,
    sliced: true,
    temperature: 1,
    topp: 0.9,
    seed: 7n,
    sampleFrom: 0,
  },
  { kind: 'classify', stream: 1, pos: 9, x: Float32Array.of(0.5, -2) },
  { kind: 'classify', stream: 1, pos: 9, x: new Float32Array(0) },
  { kind: 'slice-max', stream: 1, pos: 9, index: 16000, value: 12.5 },
  { kind: 'histogram-request', stream: 1, pos: 9, max: 12.5, below: 0xffff },
  {
    kind: 'histogram',
    stream: 1,
    pos: 9,
    top: 0x3f8,
    masses: [0x800000n, 0n, 0x1234567n],
    rest: 2n ** 149n + 1n,
  },
  { kind: 'draw', stream: 1, pos: 9, max: 12.5, bucket: 0x3f1, target: 0x123456789abcdef0123n },
];
const jsonable = (m: Message) =>
  Object.fromEntries(
    Object.entries(m).map(([k, v]) => [
      k,
      typeof v === 'bigint'
        ? `0x${v.toString(16)}`
        : Array.isArray(v)
          ? v.map((x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x))
          : ArrayBuffer.isView(v)
            ? Array.from(v as Float32Array)
            : v,
    ]),
  );
const messages = messageCases.map((m) => ({ message: jsonable(m), bytes: hex(encodeMessage(m)) }));

/**
 * A JSON value as biome formats it (indent 2, width 110): objects one entry a line, arrays of plain
 * values on one line when it fits (else one a line), exponents without '+', non-ASCII escaped as \uXXXX. `column` is where the
 * value starts on its line.
 */
function format(value: unknown, indent = '', column = 0): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const flat = value.every((v) => v === null || typeof v !== 'object');
    const line = `[${value.map((v) => format(v)).join(', ')}]`;
    if (flat && column + line.length + 1 <= 110) return line;
    return `[\n${value.map((v) => inner + format(v, inner, inner.length)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const lines = entries.map(([k, v]) => {
      const key = `${inner}${format(k)}: `;
      return key + format(v, inner, key.length);
    });
    return `{\n${lines.join(',\n')}\n${indent}}`;
  }
  if (typeof value === 'number') return JSON.stringify(value).replace('e+', 'e'); // biome writes 1e30
  return JSON.stringify(value).replace(
    /[\u007f-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** The text of docs/vectors/protocol.json. */
export function protocolVectors(): string {
  const out = {
    spec: 'docs/protocol.md',
    version: 1,
    crc32cCheck: { ascii: '123456789', crc: 'e3069283' },
    cobs,
    frames: frameVectors,
    corrupt,
    hello,
    // the HELLO payload's layout (§4.1): each side's constants (TS HELLO_OFFSETS, C TP_HELLO_OFF_*) are
    // checked against these
    helloLayout: { protocol: HELLO_PROTOCOL, bytes: HELLO_BYTES, offsets: HELLO_OFFSETS },
    messages,
  };
  return `${format(out)}\n`;
}

export const vectorsPath = fileURLToPath(new URL('../../../docs/vectors/protocol.json', import.meta.url));

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  writeFileSync(vectorsPath, protocolVectors());
  console.log(`wrote ${vectorsPath}`);
}
