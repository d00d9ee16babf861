/**
 * What a command needs from the outside world. The binary passes the real process streams; tests pass
 * in-memory sinks and run the CLI in-process.
 */
export interface Sink {
  write(chunk: string): unknown;
  /** True for a terminal (process.stderr on a TTY): progress is drawn as bars there, else one line per event. */
  readonly isTTY?: boolean;
}

export interface CliContext {
  readonly stdout: Sink;
  readonly stderr: Sink;
  /** Working directory that relative paths resolve against. */
  readonly cwd: string;
  /**
   * Aborted by the binary on SIGINT / SIGTERM (reason: an `Interrupted`) and when stdout's reader goes away
   * (EPIPE): commands check it in their loops, stop their boards and remove their temp folders.
   */
  readonly signal?: AbortSignal;
}

/** Prints one JSON document (the only thing a `--json` command writes to stdout). */
export function printJson(ctx: CliContext, value: unknown): void {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
