import { CommanderError } from 'commander';
import type { CliContext } from './io/context.js';
import { exitCodeFor, formatError, interruption } from './io/errors.js';
import { createProgram } from './program.js';

/**
 * Runs one `tinypipe` invocation and resolves to its exit status; never throws and never calls
 * `process.exit`, so tests (and apps embedding the CLI) run it in-process. When `ctx.signal` is aborted
 * the status is the interruption's (130 for SIGINT, 143 for SIGTERM, 0 when stdout's reader went away),
 * whatever error the stopped command ended with.
 *
 * @param argv the arguments after the program name, e.g. `['generate', '--steps', '32']`
 */
export async function runCli(argv: readonly string[], ctx: CliContext): Promise<number> {
  const debug = argv.includes('--debug');
  const program = createProgram(ctx);
  try {
    await program.parseAsync(
      argv.filter((a) => a !== '--debug'),
      { from: 'user' },
    );
    if (ctx.signal?.aborted) return interrupted(ctx, ctx.signal.reason);
    return 0;
  } catch (error) {
    if (ctx.signal?.aborted) {
      if (debug) ctx.stderr.write(formatError(error, debug));
      return interrupted(ctx, ctx.signal.reason);
    }
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return 0; // --help, --version
      const message = error.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' ');
      ctx.stderr.write(`tinypipe: USAGE: ${message} (see tinypipe --help)\n`);
      return 2;
    }
    ctx.stderr.write(formatError(error, debug));
    return exitCodeFor(error);
  }
}

function interrupted(ctx: CliContext, reason: unknown): number {
  const { code, line } = interruption(reason);
  if (line) ctx.stderr.write(line);
  return code;
}
