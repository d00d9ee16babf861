/**
 * Test helpers for code built on @tinypipe/protocol: the contract suites a `Transport` or a `Link` runs
 * against itself, the in-memory transport pair, a way to assert on error codes, and an example CALIBRATE
 * answer.
 */
import { TinypipeError } from '../errors/tinypipe-error.js';
import type { Calibration } from '../messages/calibration.js';

/**
 * The `TinypipeError` code `fn` throws (awaited if it returns a promise), or `undefined` when it does not
 * throw. Any other error is rethrown.
 */
export async function errorCodeOf(fn: () => unknown): Promise<string | undefined> {
  try {
    await fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e.code;
    throw e;
  }
  return undefined;
}

/**
 * A CALIBRATE answer as an ESP32-S3 running the ESP-IDF app might give it (docs/protocol.md §5.1), with
 * numbers chosen to be easy to check: 20 MB/s, 24 and 48 M MAC/s (0.1 and 0.2 MAC/cycle at 240 MHz), a
 * first-weights read of 2000 µs cold and 200 µs preloaded.
 */
export const EXAMPLE_CALIBRATION: Readonly<Calibration> = Object.freeze({
  budgetMs: 500,
  board: 0,
  kernel: 1,
  cores: 2,
  image: true,
  preload: true,
  invalidate: true,
  host: false,
  cpuMhz: 240,
  lineBaud: 2_000_000,
  imageBytes: 8_000_000,
  readBytes: 8_000_000,
  readUs: 400_000, // 20 MB/s
  readSum: 1,
  rows: 16,
  cols: 256,
  q4Reps: 3000, // 3000 × 4096 MACs in 0.512 s: 24 M MAC/s
  q4Us: 512_000,
  q8Reps: 6000, // 48 M MAC/s
  q8Us: 512_000,
  firstBytes: 32768,
  coldReps: 100,
  coldUs: 200_000, // 2000 µs a read
  preloadedReps: 100,
  preloadedUs: 20_000, // 200 µs a read
  preloadUs: 150_000, // 1500 µs a preload
  port: 'esp-idf v5.3.1 esp32s3',
});

export { createTransportPair } from '../link/memory-transport.js';
export { linkContract } from './link-contract.js';
export {
  type ContractRunner,
  type TransportContractOptions,
  transportContract,
} from './transport-contract.js';
