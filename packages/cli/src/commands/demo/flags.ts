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
  baud?: number;
  emulate?: string;
  profile?: string;
  json?: boolean;
  trace?: string;
}

/** The flags with `--streams` defaulted (one per board) and `--seed` picked (the clock) when not given. */
export type DemoRun = DemoFlags & { readonly streams: number; readonly seed: number };

/** Defaults `--streams` and `--seed`; throws a usage error for a count below 1 or a `--ber` outside [0, 1). */
export function checkDemoFlags(given: DemoFlags): DemoRun {
  const flags = { ...given, streams: given.streams ?? given.boards };
  if (flags.boards < 1 || flags.streams < 1) throw usageError('--boards and --streams must be at least 1');
  if (flags.ber < 0 || flags.ber >= 1) throw usageError('--ber must be a probability in [0, 1)');
  return { ...flags, seed: flags.seed ?? Math.floor(Date.now() / 1000) };
}
