/** CALIBRATE (docs/protocol.md §5.1, kind 9): the host's "measure yourself" and the board's measurements. */
import { TinypipeError } from '../errors/tinypipe-error.js';
import { checkU, malformed, messageHead, NO_STREAM } from './fields.js';

/** The CALIBRATE kind byte. */
export const CALIBRATE_KIND = 9;

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

/** A CALIBRATE answer's bytes. */
export function encodeCalibration(m: Calibration): Uint8Array {
  const port = new TextEncoder().encode(m.port);
  if (port.length > CALIBRATION_NAME || /[^\x20-\x7e]/.test(m.port))
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `message field port is not ≤ ${CALIBRATION_NAME} printable ASCII characters: ${JSON.stringify(m.port)}`,
    );
  const { out, v } = messageHead(CALIBRATE_KIND, CALIBRATION_BYTES + port.length, NO_STREAM);
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

/** A CALIBRATE request or answer (`bytes` has a CALIBRATE kind). */
export function decodeCalibration(
  bytes: Uint8Array,
  v: DataView,
): { kind: 'calibrate-request'; budgetMs: number } | ({ kind: 'calibration' } & Calibration) {
  const stream = v.getUint16(1, true);
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
