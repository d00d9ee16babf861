/**
 * The pipeline's messages (docs/protocol.md §5): the payload of one DATA frame on any `Link`. The C
 * firmware has the same codec (packages/firmware/src/link/messages.c); docs/vectors/protocol.json holds
 * byte-level examples both test against.
 *
 *   kind  fields after the u8 kind (little-endian)
 *   1     START       u16 stream, u8 flags, f32 temperature, f32 topp, u64 seed, u16 sample_from
 *   2     TOKEN       u16 stream, u16 pos, u32 token
 *   3     ACTIVATION  u16 stream, u16 pos, f32[dim] x
 *   4     LOGITS      u16 stream, u16 pos, u32 vocab_from, f32[n] logits
 *   5     HASHES      u16 stream, u16 pos, u16 layer_from, u32[n] per-layer FNV-1a
 *   6     END         u16 stream
 *   7     ERROR       u16 stream (0xFFFF: none), u16 code, u8[] UTF-8 text
 *   8     STATS       u16 0xFFFF: a request (host → board); the answer (board → host, 41 bytes) adds
 *                     u16 board, u32 forwards, u64 compute_us, u32 frames_out, u32 frames_in,
 *                     u32 bytes_out, u32 bytes_in, u32 retransmits, u32 dropped
 *   9     CALIBRATE   u16 0xFFFF, u16 budget_ms: a request (host → board, 5 bytes); the answer (board → host)
 *                     is the board's measurements, 72 bytes + its port's name (docs/protocol.md §5.1)
 */
import { TinypipeError } from '../errors/index.js';

export const MessageKind = {
  START: 1,
  TOKEN: 2,
  ACTIVATION: 3,
  LOGITS: 4,
  HASHES: 5,
  END: 6,
  ERROR: 7,
  STATS: 8,
  CALIBRATE: 9,
} as const;

/** A board's counters since it booted, as its STATS answer carries them (its links summed). */
export interface BoardCounters {
  board: number;
  /** TOKEN and ACTIVATION messages it computed. */
  forwards: number;
  /** Their compute, summed, in µs (0 when the board's port has no microsecond clock). */
  computeUs: number;
  framesOut: number;
  framesIn: number;
  bytesOut: number;
  bytesIn: number;
  /** DATA frames the board sent again. */
  retransmits: number;
  /** Frames it threw away on receipt (CRC, COBS, length, version). */
  dropped: number;
}

/**
 * A board's measurements of itself, as its CALIBRATE answer carries them (docs/protocol.md §5.1). Times are
 * µs summed over the reps, measured by the board's own clock; a figure it could not measure is 0.
 */
export interface Calibration {
  /** The budget it applied to each measurement, ms (0: a probe, nothing measured). */
  budgetMs: number;
  board: number;
  /** The matmul it compiled (firmware `src/kernels.h`): 0 ansi, 1 opt ({@link KERNEL_NAMES}). */
  kernel: number;
  /** Cores one matmul runs on. */
  cores: number;
  /** It serves an image (the read and first-weights figures). */
  image: boolean;
  /** Its port has a cache preload hook. */
  preload: boolean;
  /** Its port has a cache invalidate hook. */
  invalidate: boolean;
  /** It is a simulated board: the figures are those of the host it runs on. */
  host: boolean;
  /** Its CPU clock, MHz (0: unknown — a host). */
  cpuMhz: number;
  /** Its line rate (0: none — a pseudo-terminal). */
  lineBaud: number;
  imageBytes: number;
  /** Sequential read of the image, every byte once, until the budget: bytes, time, and their checksum. */
  readBytes: number;
  readUs: number;
  /** Sum mod 2^32 of the little-endian u32 words read (the tail zero-padded). */
  readSum: number;
  /** The matmul's matrix (group 32): each rep is rows × cols MACs. */
  rows: number;
  cols: number;
  q4Reps: number;
  q4Us: number;
  q8Reps: number;
  q8Us: number;
  /** The first weights a forward reads: bytes read per rep. */
  firstBytes: number;
  /** Reads after the port's cache invalidate (without one, as the cache happens to be). */
  coldReps: number;
  coldUs: number;
  /** Reads right after the port's cache preload (without one, a plain second read). */
  preloadedReps: number;
  preloadedUs: number;
  /** The preloads' own time (on a board it overlaps the wait for the next input). */
  preloadUs: number;
  /** What runs the firmware (ASCII), e.g. `esp-idf v5.3.1 esp32s3`. */
  port: string;
}

/** Kernel names by the CALIBRATE answer's `kernel` id. */
export const KERNEL_NAMES: readonly string[] = ['ansi', 'opt'];

export type Message =
  | {
      kind: 'start';
      stream: number;
      /** Send HASHES after each forward (flag bit 0). */
      hashes: boolean;
      /** Sample on the board with llama2.c's sampler (flag bit 1). */
      sample: boolean;
      temperature: number;
      topp: number;
      seed: bigint;
      /** With `sample`: the first position the board samples at (earlier ones are the prompt's). */
      sampleFrom: number;
    }
  | { kind: 'token'; stream: number; pos: number; token: number }
  | { kind: 'activation'; stream: number; pos: number; x: Float32Array }
  | { kind: 'logits'; stream: number; pos: number; vocabFrom: number; logits: Float32Array }
  | { kind: 'hashes'; stream: number; pos: number; layerFrom: number; hashes: Uint32Array }
  | { kind: 'end'; stream: number }
  | { kind: 'error'; stream: number | undefined; code: number; text: string }
  /** Host → board: "send your counters" (a chain passes it from board to board). */
  | { kind: 'stats-request' }
  | ({ kind: 'stats' } & BoardCounters)
  /** Host → board: "measure yourself", each measurement for at most `budgetMs` (0: answer at once). */
  | { kind: 'calibrate-request'; budgetMs: number }
  | ({ kind: 'calibration' } & Calibration);

const NO_STREAM = 0xffff;
/** The size of a STATS answer, and its u32 counters from byte 17 on, in wire order. */
const STATS_BYTES = 41;
const STATS_U32 = ['framesOut', 'framesIn', 'bytesOut', 'bytesIn', 'retransmits', 'dropped'] as const;
/** The CALIBRATE answer's fixed part, its fields in wire order from byte 3 (the flags byte at 9 aside), and its name's limit. */
const CALIBRATION_BYTES = 72;
const CALIBRATION_NAME = 64;
const CALIBRATION_FIELDS: readonly [keyof Calibration, 8 | 16 | 32, number][] = [
  ['budgetMs', 16, 3],
  ['board', 16, 5],
  ['kernel', 8, 7],
  ['cores', 8, 8],
  ['cpuMhz', 16, 10],
  ['lineBaud', 32, 12],
  ['imageBytes', 32, 16],
  ['readBytes', 32, 20],
  ['readUs', 32, 24],
  ['readSum', 32, 28],
  ['rows', 16, 32],
  ['cols', 16, 34],
  ['q4Reps', 32, 36],
  ['q4Us', 32, 40],
  ['q8Reps', 32, 44],
  ['q8Us', 32, 48],
  ['firstBytes', 32, 52],
  ['coldReps', 16, 56],
  ['coldUs', 32, 58],
  ['preloadedReps', 16, 62],
  ['preloadedUs', 32, 64],
  ['preloadUs', 32, 68],
];
const CALIBRATION_FLAGS = ['image', 'preload', 'invalidate', 'host'] as const;

function checkU(name: string, v: number, bits: 8 | 16 | 32): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new TinypipeError('INVALID_ARGUMENT', `message field ${name} = ${v} is not a u${bits}`);
}

/** Writes `m` as the bytes of one DATA payload. */
export function encodeMessage(m: Message): Uint8Array {
  const head = (kind: number, size: number, stream: number) => {
    checkU('stream', stream, 16);
    const out = new Uint8Array(size);
    const v = new DataView(out.buffer);
    v.setUint8(0, kind);
    v.setUint16(1, stream, true);
    return { out, v };
  };
  switch (m.kind) {
    case 'start': {
      checkU('sampleFrom', m.sampleFrom, 16);
      const { out, v } = head(MessageKind.START, 22, m.stream);
      v.setUint8(3, (m.hashes ? 1 : 0) | (m.sample ? 2 : 0));
      v.setFloat32(4, m.temperature, true);
      v.setFloat32(8, m.topp, true);
      v.setBigUint64(12, BigInt.asUintN(64, m.seed), true);
      v.setUint16(20, m.sampleFrom, true);
      return out;
    }
    case 'token': {
      checkU('pos', m.pos, 16);
      checkU('token', m.token, 32);
      const { out, v } = head(MessageKind.TOKEN, 9, m.stream);
      v.setUint16(3, m.pos, true);
      v.setUint32(5, m.token, true);
      return out;
    }
    case 'activation': {
      checkU('pos', m.pos, 16);
      const { out, v } = head(MessageKind.ACTIVATION, 5 + 4 * m.x.length, m.stream);
      v.setUint16(3, m.pos, true);
      for (let i = 0; i < m.x.length; i++) v.setFloat32(5 + 4 * i, m.x[i]!, true);
      return out;
    }
    case 'logits': {
      checkU('pos', m.pos, 16);
      checkU('vocabFrom', m.vocabFrom, 32);
      const { out, v } = head(MessageKind.LOGITS, 9 + 4 * m.logits.length, m.stream);
      v.setUint16(3, m.pos, true);
      v.setUint32(5, m.vocabFrom, true);
      for (let i = 0; i < m.logits.length; i++) v.setFloat32(9 + 4 * i, m.logits[i]!, true);
      return out;
    }
    case 'hashes': {
      checkU('pos', m.pos, 16);
      checkU('layerFrom', m.layerFrom, 16);
      const { out, v } = head(MessageKind.HASHES, 7 + 4 * m.hashes.length, m.stream);
      v.setUint16(3, m.pos, true);
      v.setUint16(5, m.layerFrom, true);
      for (let i = 0; i < m.hashes.length; i++) v.setUint32(7 + 4 * i, m.hashes[i]!, true);
      return out;
    }
    case 'end':
      return head(MessageKind.END, 3, m.stream).out;
    case 'error': {
      checkU('code', m.code, 16);
      const text = new TextEncoder().encode(m.text);
      const { out, v } = head(MessageKind.ERROR, 5 + text.length, m.stream ?? NO_STREAM);
      v.setUint16(3, m.code, true);
      out.set(text, 5);
      return out;
    }
    case 'stats-request':
      return head(MessageKind.STATS, 3, NO_STREAM).out;
    case 'stats': {
      checkU('board', m.board, 16);
      for (const name of ['forwards', ...STATS_U32] as const) checkU(name, m[name], 32);
      if (!Number.isSafeInteger(m.computeUs) || m.computeUs < 0)
        throw new TinypipeError('INVALID_ARGUMENT', `message field computeUs = ${m.computeUs} is not a u64`);
      const { out, v } = head(MessageKind.STATS, STATS_BYTES, NO_STREAM);
      v.setUint16(3, m.board, true);
      v.setUint32(5, m.forwards, true);
      v.setBigUint64(9, BigInt(m.computeUs), true);
      STATS_U32.forEach((name, i) => {
        v.setUint32(17 + 4 * i, m[name], true);
      });
      return out;
    }
    case 'calibrate-request': {
      checkU('budgetMs', m.budgetMs, 16);
      const { out, v } = head(MessageKind.CALIBRATE, 5, NO_STREAM);
      v.setUint16(3, m.budgetMs, true);
      return out;
    }
    case 'calibration': {
      const port = new TextEncoder().encode(m.port);
      if (port.length > CALIBRATION_NAME || /[^\x20-\x7e]/.test(m.port))
        throw new TinypipeError(
          'INVALID_ARGUMENT',
          `message field port is not ≤ ${CALIBRATION_NAME} printable ASCII characters: ${JSON.stringify(m.port)}`,
        );
      const { out, v } = head(MessageKind.CALIBRATE, CALIBRATION_BYTES + port.length, NO_STREAM);
      for (const [name, bits, at] of CALIBRATION_FIELDS) {
        const x = m[name] as number;
        checkU(name, x, bits);
        if (bits === 8) v.setUint8(at, x);
        else if (bits === 16) v.setUint16(at, x, true);
        else v.setUint32(at, x, true);
      }
      v.setUint8(
        9,
        CALIBRATION_FLAGS.reduce((f, name, bit) => f | (m[name] ? 1 << bit : 0), 0),
      );
      out.set(port, CALIBRATION_BYTES);
      return out;
    }
  }
}

const malformed = (why: string) => new TinypipeError('MESSAGE_MALFORMED', `malformed link message: ${why}`);

/** Parses one DATA payload; MESSAGE_MALFORMED (never anything else) when it is not a §5 message. */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < 3) throw malformed(`${bytes.length} bytes is shorter than any message`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = v.getUint8(0);
  const stream = v.getUint16(1, true);
  const exactly = (n: number, name: string) => {
    if (bytes.length !== n) throw malformed(`${name} is ${n} bytes, got ${bytes.length}`);
  };
  const words = (from: number, name: string) => {
    if (bytes.length < from || (bytes.length - from) % 4 !== 0)
      throw malformed(`${name} needs ${from} bytes plus whole 4-byte values, got ${bytes.length}`);
    return (bytes.length - from) / 4;
  };
  switch (kind) {
    case MessageKind.START: {
      exactly(22, 'START');
      const flags = v.getUint8(3);
      return {
        kind: 'start',
        stream,
        hashes: (flags & 1) !== 0,
        sample: (flags & 2) !== 0,
        temperature: v.getFloat32(4, true),
        topp: v.getFloat32(8, true),
        seed: v.getBigUint64(12, true),
        sampleFrom: v.getUint16(20, true),
      };
    }
    case MessageKind.TOKEN:
      exactly(9, 'TOKEN');
      return { kind: 'token', stream, pos: v.getUint16(3, true), token: v.getUint32(5, true) };
    case MessageKind.ACTIVATION: {
      const n = words(5, 'ACTIVATION');
      const x = new Float32Array(n);
      for (let i = 0; i < n; i++) x[i] = v.getFloat32(5 + 4 * i, true);
      return { kind: 'activation', stream, pos: v.getUint16(3, true), x };
    }
    case MessageKind.LOGITS: {
      const n = words(9, 'LOGITS');
      const logits = new Float32Array(n);
      for (let i = 0; i < n; i++) logits[i] = v.getFloat32(9 + 4 * i, true);
      return { kind: 'logits', stream, pos: v.getUint16(3, true), vocabFrom: v.getUint32(5, true), logits };
    }
    case MessageKind.HASHES: {
      const n = words(7, 'HASHES');
      const hashes = new Uint32Array(n);
      for (let i = 0; i < n; i++) hashes[i] = v.getUint32(7 + 4 * i, true);
      return { kind: 'hashes', stream, pos: v.getUint16(3, true), layerFrom: v.getUint16(5, true), hashes };
    }
    case MessageKind.END:
      exactly(3, 'END');
      return { kind: 'end', stream };
    case MessageKind.ERROR: {
      if (bytes.length < 5) throw malformed(`ERROR needs at least 5 bytes, got ${bytes.length}`);
      return {
        kind: 'error',
        stream: stream === NO_STREAM ? undefined : stream,
        code: v.getUint16(3, true),
        text: new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(5)),
      };
    }
    case MessageKind.STATS: {
      if (stream !== NO_STREAM) throw malformed(`STATS carries stream 0xffff, got ${stream}`);
      if (bytes.length === 3) return { kind: 'stats-request' };
      exactly(STATS_BYTES, 'a STATS answer');
      const computeUs = v.getBigUint64(9, true);
      const counters = Object.fromEntries(STATS_U32.map((name, i) => [name, v.getUint32(17 + 4 * i, true)]));
      return {
        kind: 'stats',
        board: v.getUint16(3, true),
        forwards: v.getUint32(5, true),
        // 2^53 µs is 285 years of compute: beyond that the figure saturates rather than lose its meaning
        computeUs: computeUs > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(computeUs),
        ...(counters as Record<(typeof STATS_U32)[number], number>),
      };
    }
    case MessageKind.CALIBRATE: {
      if (stream !== NO_STREAM) throw malformed(`CALIBRATE carries stream 0xffff, got ${stream}`);
      if (bytes.length === 5) return { kind: 'calibrate-request', budgetMs: v.getUint16(3, true) };
      if (bytes.length < CALIBRATION_BYTES || bytes.length > CALIBRATION_BYTES + CALIBRATION_NAME)
        throw malformed(
          `a CALIBRATE answer is ${CALIBRATION_BYTES} to ${CALIBRATION_BYTES + CALIBRATION_NAME} bytes, got ${bytes.length}`,
        );
      // the encoder (and the firmware) write printable ASCII only: anything else is not a port name (and
      // could not be re-encoded, or could carry terminal escapes into a report)
      const odd = bytes.subarray(CALIBRATION_BYTES).findIndex((b) => b < 0x20 || b > 0x7e);
      if (odd >= 0)
        throw malformed(
          `a CALIBRATE answer's port name is printable ASCII, byte ${odd} is 0x${bytes[CALIBRATION_BYTES + odd]!.toString(16).padStart(2, '0')}`,
        );
      const fields = Object.fromEntries(
        CALIBRATION_FIELDS.map(([name, bits, at]) => [
          name,
          bits === 8 ? v.getUint8(at) : bits === 16 ? v.getUint16(at, true) : v.getUint32(at, true),
        ]),
      );
      const flags = v.getUint8(9);
      return {
        kind: 'calibration',
        ...(fields as Omit<Calibration, (typeof CALIBRATION_FLAGS)[number] | 'port'>),
        image: (flags & 1) !== 0,
        preload: (flags & 2) !== 0,
        invalidate: (flags & 4) !== 0,
        host: (flags & 8) !== 0,
        port: String.fromCharCode(...bytes.subarray(CALIBRATION_BYTES)),
      };
    }
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}
