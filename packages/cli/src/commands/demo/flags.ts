/** The options of `tinypipe demo`, as commander hands them over, and their checked, defaulted form. */
import { usageError } from '../../io/errors.js';

export interface DemoFlags {
  model?: string;
  tokenizer?: string;
  boards: number;
  streams?: number;
  prompt: string;
  steps: number;
  seed?: number;
  ber: number;
  topology: 'star' | 'chain';
  /** Where the embedding lives: `board` (board 0) or `host` (the host embeds; default: the planner's choice). */
  embedding?: 'board' | 'host';
  /** Weight quantization of the boards' images and of the host check (default q8). */
  quant: 'q4' | 'q8';
  /** The KV cache's format (docs/numerics.md §6b), or `auto` (the planner's most exact that fits); default fp32. */
  kv?: 'fp32' | 'fp16' | 'int8' | 'auto';
  /** Context to provision and plan for (default: the model's seq_len). */
  seqLen?: number;
  /** What the plan optimizes (default: throughput with several streams, latency with one). */
  objective?: 'latency' | 'throughput';
  /** Split the classifier over the last boards when the planner finds it better (star only). */
  splitClassifier?: boolean;
  /** Ask every board for its layer hashes and check them against the unsplit host run. */
  hashes?: boolean;
  baud?: number;
  emulate?: string;
  profile?: string;
  json?: boolean;
  trace?: string;
}

/** The flags with `--streams` defaulted (one per board) and `--seed` picked (the clock) when not given. */
export type DemoRun = DemoFlags & { readonly streams: number; readonly seed: number };

/**
 * Defaults `--streams` and `--seed`; throws a usage error for a count below 1, a `--ber` outside [0, 1), a
 * `--seq-len` below 1 or `--split-classifier` in a chain.
 */
export function checkDemoFlags(given: DemoFlags): DemoRun {
  const flags = { ...given, streams: given.streams ?? given.boards };
  if (flags.boards < 1 || flags.streams < 1) throw usageError('--boards and --streams must be at least 1');
  if (flags.ber < 0 || flags.ber >= 1) throw usageError('--ber must be a probability in [0, 1)');
  if (flags.seqLen !== undefined && flags.seqLen < 1) throw usageError('--seq-len must be at least 1');
  if (flags.splitClassifier && flags.topology !== 'star')
    throw usageError('a split classifier runs in a star topology: add --topology star');
  return { ...flags, seed: flags.seed ?? Math.floor(Date.now() / 1000) };
}
