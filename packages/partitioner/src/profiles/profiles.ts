/**
 * Board profiles: what a board can hold and how fast it streams and computes. Every performance figure
 * is a parameter with its source, so a user with measurements overrides it (a `custom` profile in JSON,
 * validated here) — or has `tinypipe calibrate` measure it on the board (a profile with `measured`).
 */
import { TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';
import { parseWith } from '../validation/issues.js';

const MiB = 1024 * 1024;

const positive = v.pipe(v.number(), v.finite(), v.minValue(0, 'must be ≥ 0'));
const rate = v.pipe(v.number(), v.finite(), v.gtValue(0, 'must be > 0'));

/** A kernel's multiply-accumulates per cycle: one figure for q4 and q8 weights, or one each. */
export type KernelRate = number | { q4: number; q8: number };

/**
 * The kinds of matmul kernel the cost model knows. `ansi`: portable C — the firmware's src/kernels/ansi
 * and src/kernels/opt (it compiles one of them, src/kernels.h: plain C both, no SIMD). `optimized`: a SIMD
 * kernel (PIE on the ESP32-S3, esp-nn/esp-dsp style), which the firmware does not have yet.
 */
export type KernelKind = 'ansi' | 'optimized';

/** Figures `tinypipe calibrate` measured on a board (the profile's own fields then hold them). */
export interface MeasuredFigures {
  /** When (ISO 8601). */
  date: string;
  /** What ran the measurement: the board's firmware port, e.g. `esp-idf v5.3.1 esp32s3`. */
  board: string;
  /** The firmware's own account: the matmul kernel it compiled and the cores it runs on. */
  firmware: string;
  /** A simulated board: the figures are those of the host it ran on, not of a board. */
  host: boolean;
  /** The profile the measurements were filled into. */
  base: string;
  /** Each measurement's time budget on the board, ms. */
  budgetMs: number;
  /** Sequential read of its image through the mmap, MB/s, and the bytes read (null: no image). */
  flashMBps: number | null;
  readBytes: number;
  /** The compiled matmul, multiply-accumulates per second (q4, q8; group 32). */
  macsPerSecond: { q4: number; q8: number };
  /** The first weights a forward reads: µs per read, cold and right after the port's preload (null: none). */
  firstWeights: { bytes: number; coldUs: number; preloadedUs: number; preloadUs: number } | null;
  /** Message round trip timed by the host: median, and the line rate the board reported (0: none). */
  roundTripMs: number;
  lineBaud: number;
}
const bytes = v.pipe(v.number(), v.integer('must be a whole number of bytes'), v.minValue(0, 'must be ≥ 0'));

/** What a board can hold and how fast it streams and computes (a built-in profile or your own JSON). */
export interface BoardProfile {
  /** The name plans refer to (`esp32s3-n16r8`, or your own). */
  name: string;
  /** Chip family the firmware is built for; the flasher checks it. */
  chip: 'esp32s3' | 'esp32p4';
  /** Flash size, bytes. */
  flashBytes: number;
  /** PSRAM size, bytes (holds the KV caches). */
  psramBytes: number;
  flashMode: 'quad' | 'octal';
  psramMode: 'quad' | 'octal' | 'hex';
  clockMhz: number;
  /** SRAM left for the hot path (activations, quantized inputs, link buffers). */
  sramBytes: number;
  /** PSRAM kept back for the heap and buffers (the rest holds KV caches). */
  psramReserveBytes: number;
  /** Largest image the cache MMU can map at once. */
  mmapWindowBytes: number;
  /** Where the model partition starts (after bootloader, partition table, NVS, PHY data and the app). */
  modelOffset: number;
  /** Sustained flash → CPU rate through the cache MMU, MB/s (10^6 B/s). */
  flashMBps: number;
  /**
   * Sustained PSRAM ↔ CPU rate for the KV cache, MB/s, on the bus it shares with the flash (the cost
   * model adds the two). Optional: without it the KV bytes cost the flash rate.
   */
  psramMBps?: number | undefined;
  /** Multiply-accumulates per cycle of each kind of matmul kernel ({@link KernelKind}). */
  macsPerCycle: { ansi: KernelRate; optimized: KernelRate };
  /**
   * The kernel the firmware really has for this board: the figure plans use unless told otherwise
   * (`optimized` only where a SIMD kernel exists). Optional in JSON: `ansi`.
   */
  kernel: KernelKind;
  /** The default line rate between boards (UART), baud. */
  uartBaud: number;
  /** Fixed cost per message on a hop (driver, interrupt, USB latency), ms. */
  perMessageMs: number;
  /**
   * Bytes of its first weights a board preloads into its data cache while it waits for its next input
   * (the ESP-IDF port starts the cache's manual preload after each message): that much of the next
   * forward's flash streaming is done before the input arrives. 0: no preload.
   */
  preloadBytes: number;
  /** Where the figures come from (free text; shown in plans). */
  sources: Record<string, string>;
  /** Present when `tinypipe calibrate` measured the figures on a board (else they are datasheet figures). */
  measured?: MeasuredFigures;
}

const kernelRate = v.union(
  [rate, v.object({ q4: rate, q8: rate })],
  'must be a number > 0 or { "q4": number, "q8": number }',
);

/** Validates {@link MeasuredFigures}. */
export const MeasuredFiguresSchema = v.object({
  date: v.pipe(v.string(), v.isoTimestamp('must be an ISO 8601 time')),
  board: v.string(),
  firmware: v.string(),
  host: v.boolean(),
  base: v.string(),
  budgetMs: positive,
  flashMBps: v.nullable(positive),
  readBytes: positive,
  macsPerSecond: v.object({ q4: positive, q8: positive }),
  firstWeights: v.nullable(
    v.object({ bytes: positive, coldUs: positive, preloadedUs: positive, preloadUs: positive }),
  ),
  roundTripMs: positive,
  lineBaud: positive,
});

/** Validates a {@link BoardProfile} from JSON (`sources` may be left out). */
export const BoardProfileSchema = v.object({
  name: v.pipe(v.string(), v.minLength(1, 'must not be empty')),
  chip: v.picklist(['esp32s3', 'esp32p4'], 'must be "esp32s3" or "esp32p4"'),
  flashBytes: bytes,
  psramBytes: bytes,
  flashMode: v.picklist(['quad', 'octal'], 'must be "quad" or "octal"'),
  psramMode: v.picklist(['quad', 'octal', 'hex'], 'must be "quad", "octal" or "hex"'),
  clockMhz: positive,
  sramBytes: bytes,
  psramReserveBytes: bytes,
  mmapWindowBytes: bytes,
  modelOffset: bytes,
  flashMBps: positive,
  psramMBps: v.optional(rate),
  macsPerCycle: v.object({ ansi: kernelRate, optimized: kernelRate }),
  kernel: v.optional(v.picklist(['ansi', 'optimized'], 'must be "ansi" or "optimized"'), 'ansi'),
  uartBaud: positive,
  perMessageMs: positive,
  preloadBytes: v.optional(bytes, 0),
  sources: v.optional(v.record(v.string(), v.string()), {}),
  measured: v.optional(MeasuredFiguresSchema),
});

// The interface documents the shape, the schema checks it; the compiler keeps them the same, both ways.
type SameShape<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const schemaMatchesInterface: SameShape<v.InferOutput<typeof BoardProfileSchema>, BoardProfile> = true;
void schemaMatchesInterface;

const S3_SOURCES = {
  flashMBps:
    'estimate: ../shared/BRIEF.md §8 — seed measured 13.3 MB/s effective; quad ~20–32, octal ~52–84 MB/s (midpoints used; no published mmap measurement). Override with yours.',
  macsPerCycle:
    'ansi: plain C ≈ 0.08 MAC/cycle (fp32, BRIEF §8; the firmware’s int8 kernels are plain C too, not measured on a board); optimized: PIE int8 ≈ 5.8 MAC/cycle (esp-dsp benchmarks) — for a PIE kernel the firmware does not have yet',
  kernel:
    'ansi: the ESP32-S3 firmware compiles the portable C kernels (src/kernels.h; no PIE SIMD kernel yet) — plan with --kernel optimized to project one',
  uartBaud: 'BRIEF §9: 2 Mbaud 8N1 between boards',
  psramMBps:
    'estimate: the KV cache (PSRAM) shares the bus and the cache with the mapped flash, so its bytes add to the flash time; PSRAM in a bus mode is taken to stream like flash in that mode (BRIEF §8 midpoints: quad 26, octal 68 MB/s). Not measured on a board; override with yours.',
  preloadBytes:
    'half of the 64 KiB data cache the ESP-IDF app configures (ESP32-S3: 32 or 64 KiB; ROM Cache_Start_DCache_Preload takes at most the cache size); the other half keeps the forward’s own traffic (PSRAM KV cache). Not measured on a board.',
  memory: 'module datasheets: N8R2 = 8 MiB flash + 2 MiB quad PSRAM, N8R8/N16R8/N32R8 octal PSRAM',
};

function s3(name: string, flashMiB: number, psramMiB: number, flashMode: 'quad' | 'octal'): BoardProfile {
  return {
    name,
    chip: 'esp32s3',
    flashBytes: flashMiB * MiB,
    psramBytes: psramMiB * MiB,
    flashMode,
    psramMode: psramMiB >= 8 ? 'octal' : 'quad',
    clockMhz: 240,
    sramBytes: 320 * 1024,
    psramReserveBytes: 256 * 1024,
    mmapWindowBytes: 32 * MiB,
    modelOffset: 0x1f0000,
    flashMBps: flashMode === 'octal' ? 68 : 26,
    psramMBps: psramMiB >= 8 ? 68 : 26,
    macsPerCycle: { ansi: 0.08, optimized: 5.8 },
    kernel: 'ansi',
    uartBaud: 2_000_000,
    perMessageMs: 0.2,
    preloadBytes: 32 * 1024,
    sources: S3_SOURCES,
  };
}

/** The built-in profiles. */
export const BUILTIN_PROFILES: Readonly<Record<string, BoardProfile>> = Object.freeze({
  'esp32s3-n8r2': s3('esp32s3-n8r2', 8, 2, 'quad'),
  'esp32s3-n8r8': s3('esp32s3-n8r8', 8, 8, 'quad'),
  'esp32s3-n16r8': s3('esp32s3-n16r8', 16, 8, 'quad'),
  'esp32s3-n32r8': s3('esp32s3-n32r8', 32, 8, 'octal'),
  'esp32p4-n16r32': {
    name: 'esp32p4-n16r32',
    chip: 'esp32p4',
    flashBytes: 16 * MiB,
    psramBytes: 32 * MiB,
    flashMode: 'quad',
    psramMode: 'hex',
    clockMhz: 360,
    sramBytes: 512 * 1024,
    psramReserveBytes: 512 * 1024,
    mmapWindowBytes: 32 * MiB,
    modelOffset: 0x1f0000,
    flashMBps: 26,
    macsPerCycle: { ansi: 0.1, optimized: 4 },
    kernel: 'ansi',
    uartBaud: 2_000_000,
    perMessageMs: 0.2,
    preloadBytes: 0,
    sources: {
      clockMhz: 'ESP32-P4 datasheet: RISC-V HP cores up to 360 MHz (400 MHz parts exist)',
      flashMBps: 'estimate, as the S3 quad figure (no measurement)',
      macsPerCycle: 'estimate: no int8 esp-dsp figure for the P4 in the BRIEF; override with a measurement',
      kernel: 'ansi: the portable C kernels (no P4 SIMD kernel in the firmware)',
      psramMBps: 'none given: the KV cache bytes are costed at the flash rate (hex PSRAM is likely faster)',
      preloadBytes: 'none assumed: the P4 port does not preload (no figure for its L2 cache)',
      memory: 'ESP32-P4 boards with 16 MiB flash and 32 MiB PSRAM',
    },
  },
});

/** A built-in profile by name; BOARD_UNKNOWN (listing the names) otherwise. */
export function builtinProfile(name: string): BoardProfile {
  const p = BUILTIN_PROFILES[name];
  if (!p) {
    throw new TinypipeError(
      'BOARD_UNKNOWN',
      `unknown board "${name}": use one of ${Object.keys(BUILTIN_PROFILES).join(', ')}, or a custom profile file`,
      { details: { name, known: Object.keys(BUILTIN_PROFILES) } },
    );
  }
  return p;
}

/** Validates a custom profile (parsed JSON); PROFILE_INVALID with every bad field's path. */
export function parseProfile(value: unknown, source = 'board profile'): BoardProfile {
  return parseWith(BoardProfileSchema, value, 'PROFILE_INVALID', `${source} is not a valid board profile`);
}

/**
 * The multiply-accumulates per cycle a plan assumes for `profile`: its firmware's kernel unless `kernel`
 * says which, for `quant` weights.
 */
export function macsPerCycle(profile: BoardProfile, quant: 'q4' | 'q8', kernel?: KernelKind): number {
  const r = profile.macsPerCycle[kernel ?? profile.kernel];
  return typeof r === 'number' ? r : r[quant];
}

/** Whether the profile's figures were measured on a board (`tinypipe calibrate`) or come from datasheets. */
export function figuresOf(profile: BoardProfile): 'measured' | 'datasheet' {
  return profile.measured ? 'measured' : 'datasheet';
}
