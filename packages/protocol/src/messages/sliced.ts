/**
 * The messages of a vocab-split classifier that samples without sending its logits (docs/protocol.md §5.3,
 * docs/numerics.md §10b). Exact sums travel as unsigned LEB128 integers (7 bits a byte, low first).
 *
 *   kind  fields after the u8 kind (little-endian)
 *   10    CLASSIFY      u16 stream, u16 pos, f32[dim or 0] x          host → a classifier slice
 *   11    SLICE_MAX     u16 stream, u16 pos, u32 index, f32 value     slice → host
 *   12    HISTOGRAM?    u16 stream, u16 pos, f32 max, u16 below       host → slice (0xFFFF: from the top)
 *   13    HISTOGRAM     u16 stream, u16 pos, u16 top, u16 count, leb rest, leb[count] masses   slice → host
 *   14    DRAW          u16 stream, u16 pos, f32 max, u16 bucket, leb target                  host → slice
 */
import { checkU, exactly, messageHead as head, malformed } from './fields.js';

export const SLICED_KINDS = {
  CLASSIFY: 10,
  SLICE_MAX: 11,
  HISTOGRAM_REQUEST: 12,
  HISTOGRAM: 13,
  DRAW: 14,
} as const;

/** HISTOGRAM?'s `below` when the slice starts from its top bucket. */
export const FROM_TOP = 0xffff;

export type SlicedMessage =
  /** Host → slice: run the classifier rows on `x` (the final activation); empty `x`: the x it computed itself. */
  | { kind: 'classify'; stream: number; pos: number; x: Float32Array }
  /** Slice → host: its largest scaled logit and the first (vocabulary) index holding it. */
  | { kind: 'slice-max'; stream: number; pos: number; index: number; value: number }
  /** Host → slice: the global max; bucket masses below `below` (FROM_TOP: from the slice's top). */
  | { kind: 'histogram-request'; stream: number; pos: number; max: number; below: number }
  /** Slice → host: exact masses of buckets top, top − 1, … (units: docs/numerics.md §10b), the rest as one. */
  | { kind: 'histogram'; stream: number; pos: number; top: number; masses: bigint[]; rest: bigint }
  /** Host → slice: draw from buckets ≥ `bucket` at `target` (units 2^−173); the slice answers TOKEN. */
  | { kind: 'draw'; stream: number; pos: number; max: number; bucket: number; target: bigint };

/** Bytes of `v ≥ 0` as unsigned LEB128. */
export function lebBytes(v: bigint): number[] {
  if (v < 0n) throw malformed(`a negative exact sum (${v})`);
  const out: number[] = [];
  do {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? b | 0x80 : b);
  } while (v > 0n);
  return out;
}

/** The LEB128 integer at `at`: [value, next offset]; MESSAGE_MALFORMED when it runs past the end or is not minimal. */
export function readLeb(bytes: Uint8Array, at: number): [bigint, number] {
  let v = 0n;
  let shift = 0n;
  for (let i = at; i < bytes.length; i++) {
    const b = bytes[i]!;
    v |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > at) throw malformed('an exact sum with a redundant zero byte');
      return [v, i + 1];
    }
    if (shift > 7n * 64n) throw malformed('an exact sum longer than 64 bytes');
  }
  throw malformed('an exact sum runs past the end of the message');
}

export function encodeSliced(m: SlicedMessage): Uint8Array {
  checkU('pos', m.pos, 16);
  switch (m.kind) {
    case 'classify': {
      const { out, v } = head(SLICED_KINDS.CLASSIFY, 5 + 4 * m.x.length, m.stream);
      v.setUint16(3, m.pos, true);
      for (let i = 0; i < m.x.length; i++) v.setFloat32(5 + 4 * i, m.x[i]!, true);
      return out;
    }
    case 'slice-max': {
      checkU('index', m.index, 32);
      const { out, v } = head(SLICED_KINDS.SLICE_MAX, 13, m.stream);
      v.setUint16(3, m.pos, true);
      v.setUint32(5, m.index, true);
      v.setFloat32(9, m.value, true);
      return out;
    }
    case 'histogram-request': {
      checkU('below', m.below, 16);
      const { out, v } = head(SLICED_KINDS.HISTOGRAM_REQUEST, 11, m.stream);
      v.setUint16(3, m.pos, true);
      v.setFloat32(5, m.max, true);
      v.setUint16(9, m.below, true);
      return out;
    }
    case 'histogram': {
      checkU('top', m.top, 16);
      checkU('count', m.masses.length, 16);
      const tail = [...lebBytes(m.rest), ...m.masses.flatMap(lebBytes)];
      const { out, v } = head(SLICED_KINDS.HISTOGRAM, 9 + tail.length, m.stream);
      v.setUint16(3, m.pos, true);
      v.setUint16(5, m.top, true);
      v.setUint16(7, m.masses.length, true);
      out.set(tail, 9);
      return out;
    }
    case 'draw': {
      checkU('bucket', m.bucket, 16);
      const tail = lebBytes(m.target);
      const { out, v } = head(SLICED_KINDS.DRAW, 11 + tail.length, m.stream);
      v.setUint16(3, m.pos, true);
      v.setFloat32(5, m.max, true);
      v.setUint16(9, m.bucket, true);
      out.set(tail, 11);
      return out;
    }
  }
}

/** The message of kind 10…14 in `bytes` (kind and stream already read). */
export function decodeSliced(bytes: Uint8Array, v: DataView, kind: number, stream: number): SlicedMessage {
  if (bytes.length < 5) throw malformed(`kind ${kind} needs at least 5 bytes, got ${bytes.length}`);
  const pos = v.getUint16(3, true);
  switch (kind) {
    case SLICED_KINDS.CLASSIFY: {
      if ((bytes.length - 5) % 4 !== 0)
        throw malformed(`CLASSIFY needs 5 bytes plus whole f32 values, got ${bytes.length}`);
      const x = new Float32Array((bytes.length - 5) / 4);
      for (let i = 0; i < x.length; i++) x[i] = v.getFloat32(5 + 4 * i, true);
      return { kind: 'classify', stream, pos, x };
    }
    case SLICED_KINDS.SLICE_MAX:
      exactly(bytes, 13, 'SLICE_MAX');
      return { kind: 'slice-max', stream, pos, index: v.getUint32(5, true), value: v.getFloat32(9, true) };
    case SLICED_KINDS.HISTOGRAM_REQUEST:
      exactly(bytes, 11, 'HISTOGRAM?');
      return {
        kind: 'histogram-request',
        stream,
        pos,
        max: v.getFloat32(5, true),
        below: v.getUint16(9, true),
      };
    case SLICED_KINDS.HISTOGRAM: {
      if (bytes.length < 10) throw malformed(`HISTOGRAM needs at least 10 bytes, got ${bytes.length}`);
      const count = v.getUint16(7, true);
      const [rest, first] = readLeb(bytes, 9);
      let at = first;
      const masses: bigint[] = [];
      for (let i = 0; i < count; i++) {
        const [m, next] = readLeb(bytes, at);
        masses.push(m);
        at = next;
      }
      if (at !== bytes.length)
        throw malformed(`HISTOGRAM has ${bytes.length - at} bytes after its ${count} masses`);
      return { kind: 'histogram', stream, pos, top: v.getUint16(5, true), masses, rest };
    }
    case SLICED_KINDS.DRAW: {
      if (bytes.length < 12) throw malformed(`DRAW needs at least 12 bytes, got ${bytes.length}`);
      const [target, at] = readLeb(bytes, 11);
      if (at !== bytes.length) throw malformed(`DRAW has ${bytes.length - at} bytes after its target`);
      return { kind: 'draw', stream, pos, max: v.getFloat32(5, true), bucket: v.getUint16(9, true), target };
    }
    default:
      throw malformed(`unknown kind ${kind}`);
  }
}
