/**
 * A standalone ring of simulated boards (docs/protocol.md §4.5; ports/posix/pty_ring.c): board i's UART to
 * the next board wired to board i + 1's UART in, the last board's to board 0's, through stable symlinks so a
 * board restarted on a new PTY is found again. Board 0 drives the stories; the host only reads its console
 * (its stdout, or its own PTY with `console: 'pty'`) — it opens no protocol link to any board.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';
import { buildPosixBoard } from './build.js';

/**
 * What board 0 does (the posix board's ring options; packages/firmware/README.md "Standalone ring"). Each story
 * option given overrides that one setting of the image's story defaults (docs/image-format.md §4c); an image
 * without them uses the defaults below.
 */
export interface RingDriverOptions {
  /** The default prompt: text when board 0 has a tokenizer, else token ids ("1 403 407", BOS added when missing). */
  prompt?: string;
  /** Positions per story, the prompt included (default 256, capped at the model's seq_len). */
  steps?: number;
  /** llama2.c's sampler: temperature (default 1; 0 greedy) and top-p (default 0.9). */
  temperature?: number;
  topp?: number;
  /** Story n (from 1) is seeded `seed + n − 1` (default seed 1). */
  seed?: number;
  /** Stories at once, at most (default 1; the ring's smallest `streams` caps it). */
  parallel?: number;
  /** Board 0 exits after this many stories (default: the default prompt, forever). */
  stories?: number;
  /** Board 0's console: its stdout and stdin (default), or its own PTY (`RingBoard.path`). */
  console?: 'stdio' | 'pty';
  /** A llama2.c tokenizer.bin, in place of the one in board 0's image (or for an image without one). */
  tokenizer?: string;
}

/** Options of `spawnRing`. */
export interface RingOptions {
  /** A folder for the boards' UART-in symlinks (`ring-in-<i>`). */
  dir: string;
  driver?: RingDriverOptions;
  /** KV caches (streams) every board allocates (default 4). */
  streams?: number;
  /** Each message's compute takes at least this many µs (emulating a slower board). */
  stageUs?: number;
  /** The board program (default: build the host variant if needed). */
  program?: string;
}

/** One board of a ring. */
export interface RingBoard {
  /** Its USB port's PTY (board 0's console with `console: 'pty'`; otherwise nothing travels on it). */
  path: string;
  /** The board's process. */
  process: ChildProcess;
  /** Everything it logged on stderr so far. */
  log(): string;
}

/** A running ring. */
export interface Ring {
  /** The boards, board 0 first (a restarted board replaces its entry). */
  boards: RingBoard[];
  /** Board 0's console output so far (with `console: 'stdio'`: its stdout after the PTY lines). */
  text(): string;
  /** Resolves with the first match of `re` in the console text (checked as it grows). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Types a line on board 0's console (stdio console). */
  type(line: string): void;
  /** Resolves when board 0 exits (after `driver.stories`), with its exit code. */
  exited(): Promise<number | null>;
  /** SIGKILLs board i (a pulled cable), then, unless `restart` is false, starts it again with the same wiring. */
  kill(i: number, restart?: boolean): Promise<void>;
  /** Stops every board. */
  close(): Promise<void>;
}

/** The posix board's arguments for board `i` of a ring of `n` images. */
export function ringArgs(image: string, i: number, n: number, options: RingOptions): string[] {
  const args = ['--pty', '--image', image, '--board', String(i), '--ring'];
  if (n > 1) {
    const link = (k: number) => join(options.dir, `ring-in-${k}`);
    args.push('--in-pty', '--in-link', link(i), '--next', link((i + 1) % n));
  }
  if (options.streams !== undefined) args.push('--streams', String(options.streams));
  if (options.stageUs) args.push('--stage-us', String(Math.round(options.stageUs)));
  const d = options.driver;
  if (i === 0 && d) {
    args.push('--driver', '--console', d.console ?? 'stdio');
    const valued: [string, string | number | undefined][] = [
      ['--prompt', d.prompt],
      ['--steps', d.steps],
      ['--temperature', d.temperature],
      ['--topp', d.topp],
      ['--sample-seed', d.seed],
      ['--parallel', d.parallel],
      ['--stories', d.stories],
      ['--tokenizer', d.tokenizer],
    ];
    for (const [flag, v] of valued) if (v !== undefined) args.push(flag, String(v));
  }
  return args;
}

interface Spawned {
  board: RingBoard;
  out: () => string;
  exited: Promise<number | null>;
}

async function start(program: string, args: string[]): Promise<Spawned> {
  // stdin stays open: a board exits when it closes, so none outlives its parent
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const path = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      const m = /^PTY (\S+)\n/.exec(stdout);
      if (m && (!args.includes('--in-pty') || /^PTY_IN \S+\n/m.test(stdout))) resolve(m[1]!);
    });
    child.once('error', reject); // the program could not start
    child.once('close', (code) =>
      reject(
        new TinypipeError(
          'INVALID_ARGUMENT',
          `the board exited (code ${code}) before opening its PTY: ${stderr.trim()}`,
        ),
      ),
    );
  });
  const board: RingBoard = { path, process: child, log: () => stderr };
  // console text: stdout after the PTY lines, as bytes (latin1 keeps each byte; decoded as UTF-8 when read)
  const out = () => Buffer.from(stdout.replace(/^(PTY(_IN)? \S+\n)+/, ''), 'latin1').toString('utf8');
  return { board, out, exited };
}

/**
 * Starts a ring of simulated boards, board i serving `images[i]` (board 0: the embedding and the first layers;
 * the last: the rest and the whole classifier). All start at once; each finds the next board's UART in
 * through its symlink (retrying every 500 ms) and board 0 begins once the ring is closed.
 */
export async function spawnRing(images: readonly string[], options: RingOptions): Promise<Ring> {
  const program = options.program ?? buildPosixBoard().board;
  const n = images.length;
  const spawned = await Promise.all(images.map((image, i) => start(program, ringArgs(image, i, n, options))));
  const text = () => spawned[0]!.out();
  const ring: Ring = {
    boards: spawned.map((s) => s.board),
    text,
    async waitFor(re, timeoutMs = 30_000) {
      const child = spawned[0]!.board.process;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = re.exec(text());
        if (m) return m;
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
          throw new TinypipeError('TIMEOUT', `board 0's console never showed ${re}; it shows:\n${text()}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    type(line) {
      spawned[0]!.board.process.stdin!.write(`${line}\n`);
    },
    exited: () => spawned[0]!.exited,
    async kill(i, restart = true) {
      const s = spawned[i]!;
      if (s.board.process.exitCode === null && s.board.process.signalCode === null)
        s.board.process.kill('SIGKILL');
      await s.exited;
      if (!restart) return;
      const again = await start(program, ringArgs(images[i]!, i, n, options));
      spawned[i] = again;
      ring.boards[i] = again.board;
    },
    async close() {
      await Promise.all(
        spawned.map(async (s) => {
          if (s.board.process.exitCode === null && s.board.process.signalCode === null)
            s.board.process.kill('SIGTERM');
          await s.exited;
        }),
      );
    },
  };
  return ring;
}
