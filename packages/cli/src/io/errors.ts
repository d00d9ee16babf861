import { type ErrorCode, TinypipeError } from '@tinypipe/core';

/**
 * Exit statuses: 0 success, 1 the input (a file, a model, the data) is wrong, 2 the command line is
 * wrong (a flag value outside its range counts: the fix is to change the command, not the files).
 */
const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'INVALID_ARGUMENT',
  'BAD_STEPS',
  'BAD_TEMPERATURE',
  'BAD_TOPP',
  'PROMPT_TOO_LONG',
  'QUANT_BAD_GROUP',
]);

export function exitCodeFor(error: unknown): 1 | 2 {
  return TinypipeError.isInstance(error) && USAGE_CODES.has(error.code) ? 2 : 1;
}

/** One line: `tinypipe: CODE: message`. The stack only with --debug. */
export function formatError(error: unknown, debug: boolean): string {
  if (TinypipeError.isInstance(error)) {
    const line = `tinypipe: ${error.code}: ${error.message}`;
    return debug && error.stack ? `${line}\n${error.stack}\n` : `${line}\n`;
  }
  const message = error instanceof Error ? error.message : String(error);
  const line = `tinypipe: INTERNAL: ${message} (this is a bug in tinypipe; run again with --debug and report it)`;
  return debug && error instanceof Error && error.stack ? `${line}\n${error.stack}\n` : `${line}\n`;
}

export function usageError(message: string, details?: Record<string, unknown>): TinypipeError {
  return new TinypipeError('USAGE', message, details ? { details } : {});
}
