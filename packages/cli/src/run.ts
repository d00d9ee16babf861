import { CommanderError } from 'commander';
import type { CliContext } from './io/context.js';
import { exitCodeFor, formatError } from './io/errors.js';
import { createProgram } from './program.js';

/**
 * Runs one `tinypipe` invocation and resolves to its exit status; never throws and never calls
 * `process.exit`, so tests (and apps embedding the CLI) run it in-process.
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
    return 0;
  } catch (error) {
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
