/**
 * A simulated board serving the wire protocol on its own pseudo-terminal (ports/posix/pty_board.c):
 * spawn it, read the PTY path it prints, and open that path like a USB serial device.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { TinypipeError } from '@tinypipe/core';
import { buildPosixBoard } from './build.js';

export interface PtyBoardOptions {
  /** Plan index the board reports in HELLO. */
  board?: number;
  /** Fault injection on the board's own bytes, both directions (bit error rate; byte drop probability). */
  ber?: number;
  drop?: number;
  seed?: number;
  /** The board program (default: build the host variant if needed). */
  program?: string;
}

export interface PtyBoard {
  /** The device path to open, e.g. /dev/pts/3. */
  path: string;
  process: ChildProcess;
  /** Everything the board logged on stderr so far (one event per line). */
  log(): string;
  /** Stops the board: SIGTERM by default, SIGKILL to simulate a crash or a pulled cable. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export async function spawnPtyBoard(image: string, options: PtyBoardOptions = {}): Promise<PtyBoard> {
  const program = options.program ?? buildPosixBoard().board;
  const args = ['--pty', '--image', image];
  if (options.board !== undefined) args.push('--board', String(options.board));
  if (options.ber) args.push('--ber', String(options.ber));
  if (options.drop) args.push('--drop', String(options.drop));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  // stdin stays open: the board exits when it closes, so no board outlives its parent
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const path = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^PTY (\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) =>
      reject(
        new TinypipeError(
          'INVALID_ARGUMENT',
          `the board exited (code ${code}) before opening its PTY: ${stderr.trim()}`,
        ),
      ),
    );
  });
  return {
    path,
    process: child,
    log: () => stderr,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
