/**
 * `@tinypipe/cli` — the `tinypipe` command. Importing this module runs nothing: `runCli(argv, ctx)` runs one
 * invocation in-process and resolves to its exit status.
 */

export { CLI_ERROR_CODES, type CliErrorCodes } from './errors/codes.js';
export type { CliContext, Sink } from './io/context.js';
export { createProgram } from './program.js';
export { runCli } from './run.js';
