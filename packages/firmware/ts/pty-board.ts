/**
 * A simulated board serving the wire protocol on its own pseudo-terminal (ports/posix/pty_board.c):
 * spawn it, read the PTY path it prints, and open that path like a USB serial device.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { TinypipeError } from '@tinypipe/protocol';
import { buildPosixBoard } from './build.js';

export interface PtyBoardOptions {
  /** A virtual ESP32-S3 instead of an image: its flash is this file (created erased), the ROM answers first. */
  flash?: string;
  flashSize?: number;
  /** GET_SECURITY_INFO chip id (9 = ESP32-S3; 2 = ESP32-S2 for wrong-chip tests). */
  chipId?: number;
  mac?: string;
  /** KV caches (streams in flight) the board allocates. Default 4. */
  streams?: number;
  /** The bytes its stream arenas may take together, like a board's PSRAM: it runs as many of `streams` as fit. */
  psram?: number;
  /** Emulate a real board: each message's compute takes at least this many µs… */
  stageUs?: number;
  /** …less what it preloaded into its data cache while it waited, up to this many µs… */
  preloadUs?: number;
  /** …and the board transmits at this line rate (10 bits per byte). */
  lineBaud?: number;
  /**
   * Report each time the board's process could not run for longer than this many ms (a loaded machine, a
   * SIGSTOP): a line `tinypipe-board: stall: N ms` in `log()` (ports/posix/pty_stall.c). Off when absent.
   */
  stallMs?: number;
  /** Erase time of the virtual flash, µs per MiB (default 10000: the chip's seconds, scaled down). */
  eraseUsPerMb?: number;
  /** SPI_FLASH_MD5 time of the virtual flash, µs per MiB (default 0: at once). */
  md5UsPerMb?: number;
  /** Faults of the virtual ROM: vanish after N flash data blocks; corrupt block K when writing it. */
  dropAfter?: number;
  corruptBlock?: number;
  /** Plan index the board reports in HELLO. */
  board?: number;
  /** Fault injection on the board's own bytes, both directions (bit error rate; byte drop probability). */
  ber?: number;
  drop?: number;
  seed?: number;
  /**
   * Chain topology (docs/protocol.md §4.4), `path` staying the board's USB port (flashing; the first
   * board's host link): every board but the first takes the previous board's UART on another PTY
   * (`PtyBoard.inPath`)…
   */
  inPty?: boolean;
  /** …every board but the last sends to the next board, whose `inPath` this is… */
  next?: string;
  /** …and the last board answers the host on a PTY of its own (`PtyBoard.outPath`). */
  outPty?: boolean;
  /** The board program (default: build the host variant if needed). */
  program?: string;
}

export interface PtyBoard {
  /** The device path to open, e.g. /dev/pts/3. */
  path: string;
  /** With `inPty`: where the previous board of a chain connects. */
  inPath?: string;
  /** With `outPty`: the last board's second port, where the host reads a chain's results. */
  outPath?: string;
  process: ChildProcess;
  /** Everything the board logged on stderr so far (one event per line). */
  log(): string;
  /**
   * With `flash`, while in download mode: a pulse on the chip's EN (reset) pin, which a PTY cannot carry —
   * 'boot' with GPIO0 high (the chip boots from flash), 'download' with GPIO0 low (back into the ROM loader).
   */
  reset(mode?: 'boot' | 'download'): void;
  /** Stops the board: SIGTERM by default, SIGKILL to simulate a crash or a pulled cable. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** `image`: a weight image to serve directly; undefined with `options.flash` for a virtual ESP32-S3. */
export async function spawnPtyBoard(
  image: string | undefined,
  options: PtyBoardOptions = {},
): Promise<PtyBoard> {
  const program = options.program ?? buildPosixBoard().board;
  const args = ['--pty'];
  if (image !== undefined) args.push('--image', image);
  if (options.flash !== undefined) args.push('--flash', options.flash);
  if (options.flashSize !== undefined) args.push('--flash-size', String(options.flashSize));
  if (options.chipId !== undefined) args.push('--chip-id', String(options.chipId));
  if (options.mac !== undefined) args.push('--mac', options.mac);
  if (options.dropAfter !== undefined) args.push('--drop-after', String(options.dropAfter));
  if (options.corruptBlock !== undefined) args.push('--corrupt-block', String(options.corruptBlock));
  if (options.eraseUsPerMb !== undefined) args.push('--erase-us-per-mb', String(options.eraseUsPerMb));
  if (options.md5UsPerMb !== undefined) args.push('--md5-us-per-mb', String(options.md5UsPerMb));
  if (options.streams !== undefined) args.push('--streams', String(options.streams));
  if (options.psram !== undefined) args.push('--psram', String(options.psram));
  if (options.stageUs) args.push('--stage-us', String(Math.round(options.stageUs)));
  if (options.preloadUs) args.push('--preload-us', String(Math.round(options.preloadUs)));
  if (options.lineBaud) args.push('--line-baud', String(Math.round(options.lineBaud)));
  if (options.stallMs) args.push('--stall-ms', String(Math.round(options.stallMs)));
  if (options.board !== undefined) args.push('--board', String(options.board));
  if (options.ber) args.push('--ber', String(options.ber));
  if (options.drop) args.push('--drop', String(options.drop));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  if (options.next !== undefined) args.push('--next', options.next);
  if (options.inPty) args.push('--in-pty');
  if (options.outPty) args.push('--out-pty');
  // stdin stays open: the board exits when it closes, so no board outlives its parent
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const [path, inPath, outPath] = await new Promise<(string | undefined)[]>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^PTY (\S+)\n/.exec(out);
      const i = /^PTY_IN (\S+)\n/m.exec(out);
      const o = /^PTY_OUT (\S+)\n/m.exec(out);
      if (m && (i || !options.inPty) && (o || !options.outPty)) resolve([m[1]!, i?.[1], o?.[1]]);
    });
    // 'close', not 'exit': after stderr's last bytes (its reason) have been read
    child.once('close', (code) =>
      reject(
        new TinypipeError(
          'INVALID_ARGUMENT',
          `the board exited (code ${code}) before opening its PTY: ${stderr.trim()}`,
        ),
      ),
    );
  });
  return {
    path: path!,
    ...(inPath !== undefined ? { inPath } : {}),
    ...(outPath !== undefined ? { outPath } : {}),
    process: child,
    log: () => stderr,
    reset(mode = 'boot') {
      if (child.exitCode === null && child.signalCode === null)
        child.kill(mode === 'boot' ? 'SIGUSR1' : 'SIGUSR2');
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/**
 * A chain of simulated boards (docs/protocol.md §4.4): board i's UART to the next board wired to board
 * i + 1's `inPath`, the last board's to a PTY for the host. Started from the last, so each board can open
 * the next one's PTY. The host opens `boards[0].path` and `boards.at(-1).outPath`; every board's `path` is
 * its USB port (the flasher's).
 */
export async function spawnPtyChain(
  images: readonly (string | undefined)[],
  options: (board: number) => PtyBoardOptions = () => ({}),
): Promise<PtyBoard[]> {
  const boards: PtyBoard[] = [];
  for (let i = images.length - 1; i >= 0; i--) {
    const wiring = {
      inPty: i > 0,
      ...(i === images.length - 1 ? { outPty: true } : { next: boards[0]!.inPath! }),
    };
    boards.unshift(await spawnPtyBoard(images[i], { board: i, ...options(i), ...wiring }));
  }
  return boards;
}
