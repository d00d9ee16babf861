/** STATS (docs/protocol.md §5, kind 8): the host's request for a board's counters and the board's answer. */
import { TinypipeError } from '../errors/tinypipe-error.js';
import { checkU, exactly, malformed, messageHead, NO_STREAM } from './fields.js';

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

/** The STATS kind byte. */
export const STATS_KIND = 8;
/** The size of a STATS answer, and its u32 counters from byte 17 on, in wire order. */
const STATS_BYTES = 41;
const STATS_U32 = ['framesOut', 'framesIn', 'bytesOut', 'bytesIn', 'retransmits', 'dropped'] as const;

/** A STATS answer's bytes. */
export function encodeStats(m: BoardCounters): Uint8Array {
  checkU('board', m.board, 16);
  for (const name of ['forwards', ...STATS_U32] as const) checkU(name, m[name], 32);
  if (!Number.isSafeInteger(m.computeUs) || m.computeUs < 0)
    throw new TinypipeError('INVALID_ARGUMENT', `message field computeUs = ${m.computeUs} is not a u64`);
  const { out, v } = messageHead(STATS_KIND, STATS_BYTES, NO_STREAM);
  v.setUint16(3, m.board, true);
  v.setUint32(5, m.forwards, true);
  v.setBigUint64(9, BigInt(m.computeUs), true);
  STATS_U32.forEach((name, i) => {
    v.setUint32(17 + 4 * i, m[name], true);
  });
  return out;
}

/** A STATS request or answer (`bytes` has a STATS kind). */
export function decodeStats(
  bytes: Uint8Array,
  v: DataView,
): { kind: 'stats-request' } | ({ kind: 'stats' } & BoardCounters) {
  const stream = v.getUint16(1, true);
  if (stream !== NO_STREAM) throw malformed(`STATS carries stream 0xffff, got ${stream}`);
  if (bytes.length === 3) return { kind: 'stats-request' };
  exactly(bytes, STATS_BYTES, 'a STATS answer');
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
