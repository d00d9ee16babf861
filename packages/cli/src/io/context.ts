/**
 * What a command needs from the outside world. The binary passes the real process streams; tests pass
 * in-memory sinks and run the CLI in-process.
 */
export interface Sink {
  write(chunk: string): unknown;
}

export interface CliContext {
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Working directory that relative paths resolve against. */
  readonly cwd: string;
  /** Aborted on SIGINT by the binary, so long commands stop cleanly. */
  readonly signal?: AbortSignal;
}

/** Prints one JSON document (the only thing a `--json` command writes to stdout). */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
