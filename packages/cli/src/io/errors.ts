import { type ErrorCode, TinypipeError } from '@tinypipe/protocol';

/**
 * Exit statuses, in one place (the README's table):
 * - 0 success (also when whoever reads stdout closed it, e.g. `tinypipe generate | head -1`);
 * - 1 the input (a file, a model, a board, the data) is wrong, or the work failed;
 * - 2 the command line is wrong (a flag value outside its range counts: the fix is to change the command);
 * - 3 this machine lacks a tool or library (cmake, a C compiler, zlib): the fix is to install it;
 * - 130 / 143 interrupted by SIGINT (Ctrl-C) / SIGTERM (128 + the signal's number, as shells report).
 */
export const EXIT = { ok: 0, input: 1, usage: 2, environment: 3, sigint: 130, sigterm: 143 } as const;

const USAGE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'INVALID_ARGUMENT',
  'BAD_STEPS',
  'BAD_TEMPERATURE',
  'BAD_TOPP',
  'PROMPT_TOO_LONG',
  'QUANT_BAD_GROUP',
  'BOARD_UNKNOWN', // a --boards / --profile / --emulate value
]);

export function exitCodeFor(error: unknown): 1 | 2 | 3 {
  if (!TinypipeError.isInstance(error)) return EXIT.input;
  if (error.code === 'ENVIRONMENT') return EXIT.environment;
  return USAGE_CODES.has(error.code) ? EXIT.usage : EXIT.input;
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

/**
 * Why a run was stopped from outside, as the binary aborts `ctx.signal`: a signal (exit 128 + its number)
 * or stdout closed by its reader (exit 0, quietly).
 */
export class Interrupted extends Error {
  constructor(readonly by: 'SIGINT' | 'SIGTERM' | 'EPIPE') {
    super(
      by === 'EPIPE'
        ? 'stdout was closed by its reader'
        : `interrupted by ${by}${by === 'SIGINT' ? ' (Ctrl-C)' : ''}`,
    );
    this.name = 'Interrupted';
  }

  get exitCode(): number {
    return this.by === 'EPIPE' ? EXIT.ok : this.by === 'SIGTERM' ? EXIT.sigterm : EXIT.sigint;
  }
}

/**
 * The status and line (none for a closed stdout) of a run whose signal was aborted; an embedder's own
 * reason (e.g. `AbortSignal.timeout`) gets 130 and its message.
 */
export function interruption(reason: unknown): { code: number; line: string } {
  if (!(reason instanceof Interrupted)) {
    const message = reason instanceof Error ? reason.message : String(reason);
    return { code: EXIT.sigint, line: `tinypipe: ABORTED: ${message}; stopped and cleaned up\n` };
  }
  return {
    code: reason.exitCode,
    line: reason.by === 'EPIPE' ? '' : `tinypipe: ABORTED: ${reason.message}; stopped and cleaned up\n`,
  };
}
