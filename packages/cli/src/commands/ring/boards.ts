/**
 * `tinypipe demo --standalone`'s boards: simulated ESP32-S3 boards wired as a ring (ports/posix, the ring
 * options of packages/firmware/README.md "Standalone ring"), each a virtual chip in download mode whose
 * flash is a file; flashed over the ESP ROM protocol, they boot into the ring. Board 0's console is its
 * stdout (the USB-Serial/JTAG port of a DevKitC-1); its PTY is the USB-to-UART port the flasher uses.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { type RingDriverOptions, ringArgs } from '@tinypipe/firmware';
import { boardImage, flashPlan } from '@tinypipe/flasher';
import type { BoardBuild, Plan } from '@tinypipe/partitioner';
import { TinypipeError, type Transport } from '@tinypipe/protocol';

/** One simulated board of the ring. */
export interface RingBoardProcess {
  /** Its USB-to-UART port (a PTY): the flasher's; nothing travels on it once the ring runs. */
  path: string;
  process: ChildProcess;
  /** Its stdout after the PTY lines: board 0's console (UTF-8). */
  console(): string;
  /** Everything it logged on stderr. */
  log(): string;
  /** When (`performance.now()`) its stdout first held a whole match of `pattern` (ASCII), or undefined. */
  arrivedAt(pattern: RegExp): number | undefined;
  exited: Promise<number | null>;
}

/** What the boards are started with. */
export interface RingStart {
  program: string;
  plan: Plan;
  /** Where the flash files and the UART-in links go. */
  dir: string;
  driver: RingDriverOptions;
  /** KV caches per board (stories at once, at most). */
  streams: number;
  /** Per board: µs per message's compute, the cache preload it may hide, and its line rate (`--emulate`,
   *  as `tinypipe demo` paces a host-driven board). */
  pace?: (board: number) => { stageUs: number; preloadUs: number; lineBaud: number };
}

/** Board i's arguments: the ring's (`ringArgs`), with a virtual chip's flash in place of an image. */
export function ringBoardArgs(start: RingStart, i: number): string[] {
  const n = start.plan.boards.length;
  const args = ringArgs('', i, n, { dir: start.dir, streams: start.streams, driver: start.driver });
  const at = args.indexOf('--image');
  args.splice(
    at,
    2,
    '--flash',
    join(start.dir, `board-${i}.flash`),
    '--flash-size',
    String(start.plan.boards[i]!.profile.flashBytes),
    '--mac',
    `7c:df:a1:00:01:${i.toString(16).padStart(2, '0')}`,
  );
  const pace = start.pace?.(i);
  if (pace)
    args.push(
      ...['--stage-us', String(Math.round(pace.stageUs)), '--line-baud', String(pace.lineBaud)],
      ...(pace.preloadUs > 0 ? ['--preload-us', String(Math.round(pace.preloadUs))] : []),
    );
  return args;
}

/** Starts one board and resolves once it printed its PTY lines (a ring board has a UART in, PTY_IN). */
export async function startRingBoard(program: string, args: readonly string[]): Promise<RingBoardProcess> {
  // stdin stays open: a board exits when it closes, so none outlives the CLI
  const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const arrivals: { length: number; at: number }[] = []; // stdout's length after each chunk, and when
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const wantsIn = args.includes('--in-pty');
  const path = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString('latin1');
      arrivals.push({ length: stdout.length, at: performance.now() });
      const m = /^PTY (\S+)\n/.exec(stdout);
      if (m && (!wantsIn || /^PTY_IN \S+\n/m.test(stdout))) resolve(m[1]!);
    });
    child.once('error', reject);
    child.once('close', (code) =>
      reject(
        new TinypipeError(
          'ENVIRONMENT',
          `a simulated board exited (code ${code}) before opening its PTY: ${stderr.trim()}`,
        ),
      ),
    );
  });
  return {
    path,
    process: child,
    // bytes kept as latin1 while they arrive (a character may be split between chunks), decoded when read
    console: () => Buffer.from(stdout.replace(/^(PTY(_IN)? \S+\n)+/, ''), 'latin1').toString('utf8'),
    log: () => stderr,
    arrivedAt: (pattern) => {
      const m = pattern.exec(stdout);
      return m ? arrivals.find((a) => a.length >= m.index + m[0].length)?.at : undefined;
    },
    exited,
  };
}

/** Stops a board (SIGKILL: a pulled cable; SIGTERM: a clean stop) and waits for it to end. */
export async function stopRingBoard(
  board: RingBoardProcess,
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<void> {
  if (board.process.exitCode === null && board.process.signalCode === null) board.process.kill(signal);
  await board.exited;
}

/** Opens a serial port for the flasher (`openSerialPort`; tests count what is open through it). */
export type PortOpener = (path: string) => Promise<Transport>;

/**
 * The host's serial ports, counted: every port it opens goes through `open`, and `openNow` says how many
 * are still open. After flashing a standalone ring it must be 0: the host keeps no link to any board.
 */
export class PortLedger {
  #open = new Set<string>();
  /** Every port ever opened, in order. */
  readonly opened: string[] = [];
  constructor(readonly opener: PortOpener) {}
  /** Opens `path` through the opener; its `close()` takes it off the ledger. */
  readonly open = async (path: string): Promise<Transport> => {
    const t = await this.opener(path);
    const key = `${this.opened.length} ${path}`;
    this.opened.push(path);
    this.#open.add(key);
    const close = t.close.bind(t);
    return Object.assign(t, {
      close: async () => {
        this.#open.delete(key);
        await close();
      },
    });
  };
  /** Ports opened and not closed. */
  openNow(): number {
    return this.#open.size;
  }
}

/**
 * Flashes every board its build over the ESP ROM protocol, all at once (the flasher closes each port when
 * it is done and the board boots). Resolves to the ms it took; throws the first board's error.
 */
export async function flashRing(
  builds: readonly BoardBuild[],
  boards: readonly RingBoardProcess[],
  ports: PortLedger,
  onVerified: (board: number, region: string) => void,
): Promise<number> {
  const started = performance.now();
  const results = await flashPlan(
    await Promise.all(
      builds.map(async (b, i) => ({
        image: boardImage(b),
        port: boards[i]!.path,
        transport: await ports.open(boards[i]!.path),
      })),
    ),
    {
      onEvent: (e) => {
        if (e.kind === 'verified') onVerified(e.board, e.region);
      },
    },
  );
  const failed = results.find((r) => !r.ok);
  if (failed)
    throw failed.error ?? new TinypipeError('FLASH_FAILED', `board ${failed.board} failed to flash`);
  return performance.now() - started;
}
