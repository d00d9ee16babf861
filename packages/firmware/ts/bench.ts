/**
 * `npm run bench` (firmware): host tokens/s of the C engine (test/bench.c: one thread, greedy from BOS,
 * whole-model image, optimized kernels, the host build's flags: gcc -O3 -ffp-contract=off, LTO) on a
 * synthetic stories15M, q4 and q8 (group 32), side by side with llama2.c's runq (Q8_0, group 32) on the
 * same synthetic model exported as a llama2.c v2 checkpoint. Runs go in pairs: each pair runs C q4, C q8
 * and runq once, one after the other (the order rotating), and the ratios are taken within the pair, so
 * load on the machine hits all three. Printed: the median ratio over the pairs and its spread (min–max).
 *
 * runq: LLAMA2C_RUNQ=/path/to/runq (built with gcc -O3), or LLAMA2C_DIR=/path/to/llama2.c (a checkout:
 * the bench compiles its runq.c with `gcc -O3 -o … runq.c -lm`, as llama2.c's `make runq`; no OpenMP, no
 * -march) into build/llama2c/. llama2.c is not vendored here. BENCH_PAIRS (default 5, at least 5 for the
 * ratios the docs quote) sets the number of pairs.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, quantize, synthesize, writeCheckpoint } from '@tinypipe/core';
import { buildPosixBoard, firmwareRoot } from './build.js';

const steps = 128;
const pairsWanted = Math.max(1, Number(process.env.BENCH_PAIRS ?? 5));

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const r2 = (n: number) => Number(n.toFixed(2));
const spread = (v: number[]) => [r2(Math.min(...v)), r2(Math.max(...v))];

/** The runq binary: LLAMA2C_RUNQ, or runq.c from LLAMA2C_DIR compiled into build/llama2c; else undefined. */
function runqBinary(): string | undefined {
  if (process.env.LLAMA2C_RUNQ) return process.env.LLAMA2C_RUNQ;
  const dir = process.env.LLAMA2C_DIR;
  if (!dir) return undefined;
  const src = join(dir, 'runq.c');
  if (!existsSync(src)) throw new Error(`LLAMA2C_DIR=${dir} holds no runq.c`);
  const outDir = join(firmwareRoot(), 'build', 'llama2c');
  mkdirSync(outDir, { recursive: true });
  const out = join(outDir, 'runq');
  const cc = spawnSync('gcc', ['-O3', '-o', out, src, '-lm'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc -O3 ${src} failed: ${cc.stderr}`);
  return out;
}

function runBench(bench: string, image: string): { tokPerS: number; bytes: number } {
  const out = execFileSync(bench, [image, String(steps)], { encoding: 'utf8' });
  return {
    tokPerS: Number(/tok\/s ([\d.]+)/.exec(out)![1]),
    bytes: Number(/bytes\/token (\d+)/.exec(out)![1]),
  };
}

function runRunq(runq: string, checkpoint: string, tokenizer: string): number {
  // a prompt longer than `steps` keeps every position forced, so runq cannot stop early on BOS
  const prompt = 'Once upon a time there was a little girl. '.repeat(20);
  const r = spawnSync(runq, [checkpoint, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt], {
    encoding: 'utf8',
  });
  const m = /achieved tok\/s: ([\d.]+)/.exec(`${r.stdout}${r.stderr}`); // runq reports on stderr
  if (!m) throw new Error(`could not read tok/s from ${runq}: ${r.stderr || r.error}`);
  return Number(m[1]);
}

const programs = buildPosixBoard();
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-fw-bench-'));
const checkpoint = synthesize('15M', 1);
const result: Record<string, unknown> = { bench: 'firmware-host', model: 'synthetic 15M', steps };
try {
  const images: Record<'q4' | 'q8', string> = { q4: '', q8: '' };
  for (const kind of ['q4', 'q8'] as const) {
    images[kind] = join(tmp, `15M-${kind}.img`);
    const qm = quantize(checkpoint, { weights: kind, groupSize: 32 });
    writeFileSync(images[kind], buildImage(qm, { layers: [0, 6], embedding: true, classifier: true }));
  }
  const runq = runqBinary();
  const v2 = join(tmp, '15M-v2.bin');
  if (runq) writeFileSync(v2, writeCheckpoint(checkpoint, { version: 2, groupSize: 32 }));
  const tokenizer = fileURLToPath(new URL('../../../models/tokenizer.bin', import.meta.url));
  const bytes: Record<string, number> = {};
  const pairs: { q4: number; q8: number; runq?: number }[] = [];
  for (let p = 0; p < pairsWanted; p++) {
    const pair: { q4: number; q8: number; runq?: number } = { q4: 0, q8: 0 };
    const jobs: (() => void)[] = (['q4', 'q8'] as const).map((kind) => () => {
      const r = runBench(programs.bench, images[kind]);
      pair[kind] = r.tokPerS;
      bytes[kind] = r.bytes;
    });
    if (runq)
      jobs.push(() => {
        pair.runq = runRunq(runq, v2, tokenizer);
      });
    for (let j = 0; j < jobs.length; j++) jobs[(j + p) % jobs.length]!();
    pairs.push(pair);
  }
  Object.assign(result, {
    pairs: pairs.length,
    cQ4TokPerS: r2(median(pairs.map((p) => p.q4))),
    cQ8TokPerS: r2(median(pairs.map((p) => p.q8))),
    q4WeightBytesPerToken: bytes.q4,
    q8WeightBytesPerToken: bytes.q8,
  });
  if (runq) {
    const q4r = pairs.map((p) => p.q4 / p.runq!);
    const q8r = pairs.map((p) => p.q8 / p.runq!);
    Object.assign(result, {
      runqTokPerS: r2(median(pairs.map((p) => p.runq!))),
      q4OverRunq: r2(median(q4r)),
      q4OverRunqSpread: spread(q4r),
      q8OverRunq: r2(median(q8r)),
      q8OverRunqSpread: spread(q8r),
    });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (n: unknown) => String(n).padStart(9);
console.log(
  `C engine on the host, synthetic 15M (one thread, greedy, ${steps} steps; medians of ${result.pairs} pairs)`,
);
console.log(
  `tinypipe C q4 g32          ${fmt(result.cQ4TokPerS)} tok/s  ${(result.q4WeightBytesPerToken as number).toLocaleString('en-US')} weight bytes/token`,
);
console.log(
  `tinypipe C q8 g32          ${fmt(result.cQ8TokPerS)} tok/s  ${(result.q8WeightBytesPerToken as number).toLocaleString('en-US')} weight bytes/token`,
);
if (result.runqTokPerS !== undefined) {
  console.log(`llama2.c runq Q8_0 g32     ${fmt(result.runqTokPerS)} tok/s`);
  const [a, b] = result.q4OverRunqSpread as number[];
  const [c, d] = result.q8OverRunqSpread as number[];
  console.log(`C q4 / runq  ${result.q4OverRunq}× (${a}–${b})`);
  console.log(`C q8 / runq  ${result.q8OverRunq}× (${c}–${d})`);
} else {
  console.log(
    '(set LLAMA2C_RUNQ=/path/to/runq, or LLAMA2C_DIR=/path/to/llama2.c to build it, for the ratios to runq)',
  );
}
console.log(JSON.stringify(result));
