/**
 * The pipeline's messages (docs/protocol.md §5): the payload of one DATA frame on any `Link`. The C
 * firmware has the same codec (packages/firmware/src/link/messages.c); docs/vectors/protocol.json holds
 * byte-level examples both test against.
 *
 * STATS lives in stats.ts, CALIBRATE in calibration.ts, what all share in fields.ts.
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
 *   10…14 a split classifier's sampling (CLASSIFY, SLICE_MAX, HISTOGRAM?, HISTOGRAM, DRAW): sliced.ts
 */
import { CALIBRATE_KIND, type Calibration, decodeCalibration, encodeCalibration } from './calibration.js';
import { checkU, exactly, messageHead as head, malformed, NO_STREAM } from './fields.js';
import { decodeSliced, encodeSliced, SLICED_KINDS, type SlicedMessage } from './sliced.js';
import { type BoardCounters, decodeStats, encodeStats, STATS_KIND } from './stats.js';

export const MessageKind = {
  START: 1,
  TOKEN: 2,
  ACTIVATION: 3,
  LOGITS: 4,
  HASHES: 5,
  END: 6,
  ERROR: 7,
  STATS: STATS_KIND,
  CALIBRATE: CALIBRATE_KIND,
  ...SLICED_KINDS,
} as const;

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
      /**
       * A classifier slice samples with the host (flag bit 2, docs/numerics.md §10b): it answers SLICE_MAX,
       * HISTOGRAM and TOKEN instead of LOGITS. Absent: false.
       */
      sliced?: boolean;
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
  | ({ kind: 'calibration' } & Calibration)
  | SlicedMessage;

/** Writes `m` as the bytes of one DATA payload. */
export function encodeMessage(m: Message): Uint8Array {
  switch (m.kind) {
    case 'start': {
      checkU('sampleFrom', m.sampleFrom, 16);
      const { out, v } = head(MessageKind.START, 22, m.stream);
      v.setUint8(3, (m.hashes ? 1 : 0) | (m.sample ? 2 : 0) | (m.sliced ? 4 : 0));
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
    case 'stats':
      return encodeStats(m);
    case 'calibrate-request': {
      checkU('budgetMs', m.budgetMs, 16);
      const { out, v } = head(MessageKind.CALIBRATE, 5, NO_STREAM);
      v.setUint16(3, m.budgetMs, true);
      return out;
    }
    case 'calibration':
      return encodeCalibration(m);
    default:
      return encodeSliced(m);
  }
}

/** Parses one DATA payload; MESSAGE_MALFORMED (never anything else) when it is not a §5 message. */
export function decodeMessage(bytes: Uint8Array): Message {
  if (bytes.length < 3) throw malformed(`${bytes.length} bytes is shorter than any message`);
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = v.getUint8(0);
  const stream = v.getUint16(1, true);
  const words = (from: number, name: string) => {
    if (bytes.length < from || (bytes.length - from) % 4 !== 0)
      throw malformed(`${name} needs ${from} bytes plus whole 4-byte values, got ${bytes.length}`);
    return (bytes.length - from) / 4;
  };
  switch (kind) {
    case MessageKind.START: {
      exactly(bytes, 22, 'START');
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
        ...((flags & 4) !== 0 ? { sliced: true } : {}),
      };
    }
    case MessageKind.TOKEN:
      exactly(bytes, 9, 'TOKEN');
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
      exactly(bytes, 3, 'END');
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
    case MessageKind.STATS:
      return decodeStats(bytes, v);
    case MessageKind.CALIBRATE:
      return decodeCalibration(bytes, v);
    case MessageKind.CLASSIFY:
    case MessageKind.SLICE_MAX:
    case MessageKind.HISTOGRAM_REQUEST:
    case MessageKind.HISTOGRAM:
    case MessageKind.DRAW:
      return decodeSliced(bytes, v, kind, stream);
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}
