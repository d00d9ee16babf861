/**
 * The cancellation path of the real binary (dist/bin.js in a child process, as a user runs it): Ctrl-C
 * (SIGINT) and SIGTERM stop a busy command within a second with 130 / 143, stop its boards and leave no
 * temp folder; a reader closing stdout (`| head -1`) ends the run quietly. Each run gets a private
 * TMPDIR, so "no temp folder left" is exact.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'tinypipe-signals-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  /** The run's own TMPDIR. */
  tmp: string;
  stdout: () => string;
  stderr: () => string;
  /** Resolves when stderr matches. */
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const tmp = mkdtempSync(join(root, 'run-'));
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, TMPDIR: tmp, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    for (const w of waiters.filter((x) => x.pattern.test(err))) w.resolve();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  return {
    child,
    tmp,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(err)) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} on stderr after ${timeoutMs} ms:\n${err}`)),
          timeoutMs,
        );
        waiters.push({
          pattern,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
        void exited.then(() => reject(new Error(`exited before ${pattern}:\n${err}`)));
      }),
  };
}

/** Signals `r` and measures how long it takes to exit. */
async function interrupt(r: Run, signal: NodeJS.Signals = 'SIGINT') {
  const sent = performance.now();
  r.child.kill(signal);
  const end = await r.exited;
  return { ...end, ms: end.at - sent };
}

/** Board processes still running with a flash file in `tmp` (they take `--flash TMP/board-N.flash`). */
function boardsUsing(tmp: string): string[] {
  const ps = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return ps.split('\n').filter((line) => line.includes('tinypipe-board') && line.includes(tmp));
}

const noStack = (stderr: string) => {
  expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
  expect(stderr).not.toMatch(/EPIPE|INTERNAL/);
};

beforeAll(() => {
  expect(existsSync(bin), `${bin} is missing: build the CLI first (npx turbo run build)`).toBe(true);
});

describe('Ctrl-C and SIGTERM: one cancellation path', () => {
  it('eval stops within 1 s of SIGINT, mid-evaluation, with 130 and one ABORTED line', async () => {
    const r = run(['eval', '--quant', 'q4', '--quant', 'q8']); // ~10 s of work on stories260K
    await r.waitFor(/tinypipe eval: \d+ %/);
    const end = await interrupt(r);
    expect(end.code).toBe(130);
    expect(end.ms).toBeLessThan(1000);
    expect(r.stderr()).toMatch(/^tinypipe: ABORTED: interrupted by SIGINT \(Ctrl-C\)/m);
    expect(r.stdout()).toBe(''); // no table of a half-done evaluation
    noStack(r.stderr());
    expect(readdirSync(r.tmp)).toEqual([]);
  });

  it('SIGTERM exits 143; two Ctrl-C in a row still exit 130', async () => {
    const term = run(['eval', '--quant', 'q8']);
    await term.waitFor(/tinypipe eval: \d+ %/);
    const t = await interrupt(term, 'SIGTERM');
    expect(t.code).toBe(143);
    expect(t.ms).toBeLessThan(1000);
    expect(term.stderr()).toMatch(/ABORTED: interrupted by SIGTERM/);

    const twice = run(['eval', '--quant', 'q8']);
    await twice.waitFor(/tinypipe eval: \d+ %/);
    twice.child.kill('SIGINT');
    const end = await interrupt(twice);
    expect(end.code).toBe(130);
    expect(end.ms).toBeLessThan(1000);
  });

  it('demo: Ctrl-C while the boards stream stops them within 1 s, exit 130, its temp folder removed', async () => {
    // paced to the real module's speed (~80 tok/s) so it is busy streaming for seconds
    const r = run(['demo', '--steps', '256', '--seed', '1', '--emulate', 'esp32s3-n16r8']);
    await r.waitFor(/handshake done/);
    expect(readdirSync(r.tmp).filter((f) => f.startsWith('tinypipe-demo-'))).toHaveLength(1);
    expect(boardsUsing(r.tmp)).toHaveLength(2);
    const end = await interrupt(r);
    expect(end.code).toBe(130);
    expect(end.ms).toBeLessThan(1000);
    noStack(r.stderr());
    expect(readdirSync(r.tmp)).toEqual([]);
    expect(boardsUsing(r.tmp)).toEqual([]);
  });

  it('demo: Ctrl-C while flashing stops it too', async () => {
    const r = run(['demo', '--steps', '32', '--seed', '1']);
    await r.waitFor(/flashing 2 board/);
    const end = await interrupt(r);
    expect(end.code === 130 || end.code === 0).toBe(true); // flashing the stories260K boards takes ~0.3 s
    expect(end.ms).toBeLessThan(1000);
    noStack(r.stderr());
    expect(readdirSync(r.tmp)).toEqual([]);
    expect(boardsUsing(r.tmp)).toEqual([]);
  });
});

describe('stdout closed by its reader (EPIPE)', () => {
  it('generate | head -1: exits 0, quietly', () => {
    const tmp = mkdtempSync(join(root, 'pipe-'));
    const r = spawnSync(
      'bash',
      ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" generate --seed 1 --steps 256 | head -1`],
      { env: { ...process.env, TMPDIR: tmp }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(r.status).toBe(0); // pipefail: tinypipe's own status
    expect(r.stdout.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.stderr).toMatch(/^seed: 1\n/);
    noStack(r.stderr);
    expect(r.stderr).not.toMatch(/ABORTED/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  it('demo with its stdout closed after the first piece: exits 0, boards stopped, no temp folder', async () => {
    const r = run(['demo', '--steps', '256', '--seed', '1', '--emulate', 'esp32s3-n16r8']);
    await new Promise<void>((resolve) => r.child.stdout!.once('data', () => resolve()));
    const sent = performance.now();
    r.child.stdout!.destroy(); // as `| head -c 1` does
    const end = await r.exited;
    expect(end.code).toBe(0);
    expect(end.at - sent).toBeLessThan(2000); // the next piece written meets the closed pipe
    noStack(r.stderr());
    expect(readdirSync(r.tmp)).toEqual([]);
    expect(boardsUsing(r.tmp)).toEqual([]);
  });
});
