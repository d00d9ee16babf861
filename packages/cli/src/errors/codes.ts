/**
 * The error codes `@tinypipe/cli` owns, with what each means. Registering them in `TinypipeErrorCodes`
 * makes them type-check wherever this package is installed; docs/errors.md lists every package's codes.
 */
export const CLI_ERROR_CODES = {
  USAGE: 'A command-line flag or argument is malformed (the CLI exits with status 2).',
} as const;

/** The table's type, merged into `TinypipeErrorCodes`. */
export type CliErrorCodes = typeof CLI_ERROR_CODES;

declare module '@tinypipe/protocol' {
  interface TinypipeErrorCodes extends CliErrorCodes {}
}
