/**
 * The pipeline's speed-up, side by side (issue 9): `tinypipe demo --json` with 1 board × 1 stream, then
 * 2 boards × K streams (K = 2 unless the row says otherwise), back to back, a few pairs per row (medians).
 *
 * - host speed: the boards compute as fast as this machine. With stories260K a whole token takes ~0.3 ms
 *   of compute while one hop (a frame over a pseudo-terminal, the other process woken to read it)
 *   costs more than that, so the hops, not the boards, set the pace: with K = 2 each stream's token waits
 *   for every hop of its round, and the ratio is at most 2·T1/(T1 + hop) with T1 the 1×1 time per token
 *   and hop what the second board adds to a round (a chain: one board-to-board hop; a star: two).
 *   The compute-bound row uses a synthetic checkpoint with stories42M's body (8 layers, dim 512) and a
 *   512-token vocabulary, written to a temporary file here. On a 2-core machine the two boards and the
 *   host share two cores.
 * - emulating an ESP32-S3: each board paces its compute to the cost model's prediction and its UART
 *   to the profile's rate (2 Mbaud; 5 Mbaud, the S3 UART's ceiling, in the last row), transmitting from
 *   an 8 KB ring while it computes, as the ESP-IDF port does; while it waits for its input it preloads its
 *   first 32 KiB of weights into the data cache (as the ESP-IDF port does), which hides hops behind flash
 *   streaming only where flash, not compute, bounds a board (not with the plain C kernels the S3 profiles
 *   assume). The cost model's own ratio is printed beside the measured one.
 *
 * The ring against the host (issue 21 item 4), after those rows: `tinypipe demo --standalone` (the boards
 * tell the stories, board 0 sending each sampled token round the ring, no host link) against the
 * host-driven `tinypipe demo --topology chain`, both emulating an ESP32-S3-N16R8 — the same plan (the
 * classifier whole on the last board, which samples), model, steps, seed, N boards and K stories at once,
 * each board paced the same way (its plan's compute per message, its cache preload, its UART's rate). A
 * pair runs the two back to back, ring first in even pairs and host first in odd ones; each side's tok/s
 * is all its stories' tokens over the time from the first story's start to the last one's end (the ring's
 * as board 0's console shows it to the host).
 *
 * Run: npm run bench (in packages/cli, after npm run build: each demo runs dist/bin.js in its own process).
 * BENCH_PAIRS=N sets the pairs per row (default 3); BENCH_ROWS=text runs only the rows whose label
 * contains it (case-insensitive; e.g. BENCH_ROWS=ring for the ring's rows alone).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MODEL_SHAPES, synthesize, writeCheckpoint } from '@tinypipe/core';
import { ringRows } from './ring.js';

/** Pairs per row: a pair is the 1×1 run then the 2×K run, back to back, so both see the same machine. */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 3);
if (!Number.isInteger(PAIRS) || PAIRS < 1)
  throw new Error(`BENCH_PAIRS must be a whole number ≥ 1, got ${PAIRS}`);

/** Only the rows whose label contains this (case-insensitive); every row when unset. */
const ROWS = process.env.BENCH_ROWS?.toLowerCase();
const selected = (label: string) => ROWS === undefined || label.toLowerCase().includes(ROWS);

interface Summary {
  tokens: number;
  tokensPerSecond: number;
  identicalToHost: boolean;
  perBoard: { computeMsPerPosition: number }[];
  emulated?: string;
  predicted?: { tokensPerSecond: number };
}

/** One `tinypipe demo --json` in its own process, as a user runs it: no row inherits another's heap or
 *  warmed-up code. */
function demo(args: string[]): Promise<Summary> {
  const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
  return new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [bin, 'demo', '--seed', '1', '--json', ...args],
      { maxBuffer: 1 << 24 },
      (error, stdout, stderr) =>
        error
          ? reject(new Error(`tinypipe demo ${args.join(' ')} failed:\n${stderr}`, { cause: error }))
          : resolve(JSON.parse(stdout)),
    ),
  );
}

const dir = mkdtempSync(join(tmpdir(), 'tinypipe-bench-'));
const body42m = join(dir, '42M-body-vocab512.bin');

const rows: { label: string; args: string[]; streams?: number }[] = [
  { label: 'host speed, 260K, star', args: ['--steps', '160', '--topology', 'star'] },
  { label: 'host speed, 260K, chain (default)', args: ['--steps', '160', '--topology', 'chain'] },
  {
    label: 'host speed, 42M body, chain',
    args: ['--steps', '96', '--model', body42m, '--profile', 'esp32s3-n32r8', '--topology', 'chain'],
  },
  {
    label: 'esp32s3-n16r8, 260K, star',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'star'],
  },
  {
    label: 'esp32s3-n16r8, 260K, chain (default)',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'chain'],
  },
  {
    // a third story: no board waits for a hop any more, the busiest board is the bound
    label: 'esp32s3-n16r8, 260K, star, K=3',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'star'],
    streams: 3,
  },
  {
    label: 'n16r8 at 5 Mbaud, 260K, chain',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'chain', '--baud', '5000000'],
  },
];

const fmt = (x: number, width = 7) => x.toFixed(1).padStart(width);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pipelineRows = rows.filter((r) => selected(r.label));
if (pipelineRows.some((r) => r.args.includes(body42m)))
  writeFileSync(
    body42m,
    writeCheckpoint(synthesize({ ...MODEL_SHAPES['42M'], vocabSize: 512, seqLen: 128 }, 1), { version: 0 }),
  );
if (pipelineRows.length)
  console.log(
    `${'tinypipe demo'.padEnd(38)} ${'1×1 tok/s'.padStart(9)} ${'2×K tok/s'.padStart(9)}  ratio  predicted  ` +
      `1×1 ms/token  of which compute  bit-exact`,
  );
try {
  for (const { label, args, streams = 2 } of pipelineRows) {
    const pairs: { one: Summary; two: Summary }[] = [];
    for (let i = 0; i < PAIRS; i++)
      pairs.push({
        one: await demo(['--boards', '1', '--streams', '1', ...args]),
        two: await demo(['--boards', '2', '--streams', String(streams), ...args]),
      });
    const one = median(pairs.map((p) => p.one.tokensPerSecond));
    const two = median(pairs.map((p) => p.two.tokensPerSecond));
    const ratio = median(pairs.map((p) => p.two.tokensPerSecond / p.one.tokensPerSecond));
    const first = pairs[0]!;
    const predicted =
      first.one.emulated && first.one.predicted && first.two.predicted // the model predicts the board, not this host
        ? (first.two.predicted.tokensPerSecond / first.one.predicted.tokensPerSecond).toFixed(2)
        : '—';
    // a token of the 1×1 run: what it took, and what of that the board computed (the rest is the hops)
    const compute = median(pairs.map((p) => p.one.perBoard.reduce((a, b) => a + b.computeMsPerPosition, 0)));
    const exact = pairs.every((p) => p.one.identicalToHost && p.two.identicalToHost);
    console.log(
      `${label.padEnd(38)} ${fmt(one, 9)} ${fmt(two, 9)}   ${ratio.toFixed(2)}  ${predicted.padStart(9)}  ` +
        `${(1000 / one).toFixed(3).padStart(12)}  ${compute.toFixed(3).padStart(15)}  ${exact ? 'yes' : 'NO'}`,
    );
  }
  if (pipelineRows.length)
    console.log(
      `\nmedians of ${PAIRS} pairs per row (BENCH_PAIRS=N to change); ratio = the median of the pairs' ratios;\n` +
        'a 1×1 token is its compute plus its hops (host → board → host): where the hops dominate, two streams\n' +
        'on two boards cannot double it, since each stream still waits for every hop of its round\n',
    );
  await ringRows(PAIRS, selected, demo);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
