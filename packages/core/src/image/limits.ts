/**
 * What the firmware can run: a valid image may still be larger than a board's compiled buffers
 * (docs/image-format.md §6a). The same numbers as TP_SERVE_MAX_* in packages/firmware/src/serve.h, checked
 * by the firmware at boot (TP_E_LIMITS) and here before a plan or a host trusts an image.
 */
import { TinypipeError } from '@tinypipe/protocol';
import type { ImageHeader } from './types.js';

export interface BoardLimits {
  /** an ACTIVATION must fit one payload (4 × dim + 5 ≤ 4096) */
  readonly maxDim: number;
  readonly maxHiddenDim: number;
  /** layers on one board (one HASHES message) */
  readonly maxStageLayers: number;
  /** layer indices are u16 in the HELLO */
  readonly maxLayers: number;
  /** positions are u16 on the wire */
  readonly maxSeqLen: number;
  /** classifier rows on one board, and the vocab a sampling board sorts */
  readonly maxVocabRows: number;
}

/** The firmware's TP_SERVE_MAX_* (src/serve.h): every port, posix and ESP-IDF. */
export const FIRMWARE_LIMITS: BoardLimits = {
  maxDim: 1024,
  maxHiddenDim: 8192,
  maxStageLayers: 256,
  maxLayers: 65535,
  maxSeqLen: 65536,
  maxVocabRows: 65536,
};

/** Throws `IMAGE_EXCEEDS_BOARD` naming the first field beyond `limits` (the firmware's order). */
export function checkBoardLimits(header: ImageHeader, limits: BoardLimits = FIRMWARE_LIMITS): void {
  const c = header.config;
  const [from, to] = header.layerRange;
  const rows = header.vocab ? header.vocab[1] - header.vocab[0] : 0;
  const checks: [string, number, number][] = [
    ['dim', c.dim, limits.maxDim],
    ['hidden_dim', c.hiddenDim, limits.maxHiddenDim],
    ['n_layers', c.nLayers, limits.maxLayers],
    ['layers on this board', to - from, limits.maxStageLayers],
    ['seq_len', c.seqLen, limits.maxSeqLen],
    ['classifier rows', rows, limits.maxVocabRows],
  ];
  for (const [field, actual, max] of checks) {
    if (actual > max) {
      throw new TinypipeError(
        'IMAGE_EXCEEDS_BOARD',
        `weight image: ${field} ${actual} exceeds the firmware's limit ${max} (docs/image-format.md §6a). ` +
          'Split the model over more boards, or use a smaller model.',
        { details: { field, actual, max } },
      );
    }
  }
}
