/** What every §5 message shares: the stream field's "no stream" value, u-int checks and the errors. */
import { TinypipeError } from '../errors/tinypipe-error.js';

/** The stream field of a message about no stream (ERROR without one, STATS, CALIBRATE). */
export const NO_STREAM = 0xffff;

export function checkU(name: string, v: number, bits: 8 | 16 | 32): void {
  if (!Number.isInteger(v) || v < 0 || v >= 2 ** bits)
    throw new TinypipeError('INVALID_ARGUMENT', `message field ${name} = ${v} is not a u${bits}`);
}

/** A message of `size` bytes with its kind and stream written. */
export function messageHead(kind: number, size: number, stream: number): { out: Uint8Array; v: DataView } {
  checkU('stream', stream, 16);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  v.setUint8(0, kind);
  v.setUint16(1, stream, true);
  return { out, v };
}

export const malformed = (why: string): TinypipeError =>
  new TinypipeError('MESSAGE_MALFORMED', `malformed link message: ${why}`);

export function exactly(bytes: Uint8Array, n: number, name: string): void {
  if (bytes.length !== n) throw malformed(`${name} is ${n} bytes, got ${bytes.length}`);
}
