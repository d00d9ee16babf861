/**
 * The pipeline's speed-up, side by side in one run (issue 9): `tinypipe demo --json` with 1 board × 1
 * stream, then 2 boards × K streams (K = 2 unless the row says otherwise), for each row below.
 *
 * - host speed: the boards compute as fast as this machine. With stories260K a stage takes ~0.1 ms, so
 *   what is measured is mostly the host's and the PTYs' per-message cost; the compute-bound row uses a
 *   synthetic checkpoint with stories42M's body (8 layers, dim 512) and a 512-token vocabulary, written
 *   to a temporary file here. On a 2-core machine the two boards and the host share two cores.
 * - emulating an ESP32-S3: each board paces its compute to the cost model's prediction and its UART
 *   to the profile's rate (2 Mbaud; 5 Mbaud, the S3 UART's ceiling, in the last row), transmitting from
 *   an 8 KB ring while it computes, as the ESP-IDF port does. There the cost model's own ratio is printed
 *   beside the measured one: with 2 streams on 2 boards each token still waits for the activation hop
 *   (~1.4 ms for stories260K at 2 Mbaud), which the model counts too.
 *
 * Run: npm run bench (in packages/cli, after npm run build)
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODEL_SHAPES, synthesize, writeCheckpoint } from '@tinypipe/core';
import { runCli } from '../src/run.js';

interface Summary {
  tokensPerSecond: number;
  identicalToHost: boolean;
  emulated?: string;
  predicted?: { tokensPerSecond: number };
}

async function demo(args: string[]): Promise<Summary> {
  let out = '';
  let err = '';
  const code = await runCli(['demo', '--seed', '1', '--json', ...args], {
    stdout: { write: (s: string) => (out += s) },
    stderr: { write: (s: string) => (err += s) },
    cwd: process.cwd(),
  });
  if (code !== 0) throw new Error(`tinypipe demo ${args.join(' ')} failed:\n${err}`);
  return JSON.parse(out);
}

const dir = mkdtempSync(join(tmpdir(), 'tinypipe-bench-'));
const body42m = join(dir, '42M-body-vocab512.bin');
writeFileSync(
  body42m,
  writeCheckpoint(synthesize({ ...MODEL_SHAPES['42M'], vocabSize: 512, seqLen: 128 }, 1), { version: 0 }),
);

const rows: { label: string; args: string[]; streams?: number }[] = [
  { label: 'host speed, stories260K, star', args: ['--steps', '160'] },
  { label: 'host speed, stories260K, chain', args: ['--steps', '160', '--topology', 'chain'] },
  {
    label: 'host speed, 42M body, chain',
    args: ['--steps', '96', '--model', body42m, '--profile', 'esp32s3-n32r8', '--topology', 'chain'],
  },
  { label: 'esp32s3-n16r8, 260K, star', args: ['--steps', '160', '--emulate', 'esp32s3-n16r8'] },
  {
    label: 'esp32s3-n16r8, 260K, chain',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'chain'],
  },
  {
    // a third story keeps the first board busy while a token crosses the hops (the 2×2 rows wait for it)
    label: 'esp32s3-n16r8, 260K, star, K=3',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8'],
    streams: 3,
  },
  {
    label: 'n16r8 at 5 Mbaud, 260K, chain',
    args: ['--steps', '160', '--emulate', 'esp32s3-n16r8', '--topology', 'chain', '--baud', '5000000'],
  },
];

const fmt = (x: number) => x.toFixed(1).padStart(7);
console.log(
  `${'tinypipe demo'.padEnd(32)} ${'1×1 tok/s'.padStart(9)} ${'2×K tok/s'.padStart(9)}  ratio  predicted ratio  bit-exact`,
);
try {
  for (const { label, args, streams = 2 } of rows) {
    const one = await demo(['--boards', '1', '--streams', '1', ...args]);
    const two = await demo(['--boards', '2', '--streams', String(streams), ...args]);
    const predicted =
      one.emulated && one.predicted && two.predicted // the model predicts the board, not this host
        ? (two.predicted.tokensPerSecond / one.predicted.tokensPerSecond).toFixed(2)
        : '—';
    console.log(
      `${label.padEnd(32)} ${fmt(one.tokensPerSecond)}   ${fmt(two.tokensPerSecond)}   ${(two.tokensPerSecond / one.tokensPerSecond).toFixed(2)}  ${predicted.padStart(15)}  ${one.identicalToHost && two.identicalToHost ? 'yes' : 'NO'}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
