/**
 * `npm run bench` (core): the fp32 engine's tokens/s through its JavaScript reference kernels (TS js) and
 * its WebAssembly SIMD kernels (TS wasm), side by side with llama2.c's run.c on the same checkpoints,
 * on stories260K and a synthetic stories15M, in pairs: each pair runs the three once, one after the other
 * (the order rotating), and the ratios are taken within the pair, so load on the machine hits all three.
 * Printed: the median ratio over the pairs and its spread (min–max).
 *
 * run.c: LLAMA2C_RUN=/path/to/run (built with gcc -O3), or LLAMA2C_DIR=/path/to/llama2.c (a checkout:
 * the bench compiles its run.c with `gcc -O3 … -lm`, as llama2.c's `make run`). llama2.c is not vendored
 * here (its code stays in its own project). BENCH_PAIRS (default 5) sets the number of pairs.
 *
 *   weights bytes/token = 4 × (every matrix once: n_layers × (dim² × 2 + 2 × kv_dim × dim + 3 × dim × hidden)
 *                             + classifier vocab × dim + the norms) + one embedding row (dim × 4)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  type Checkpoint,
  Fp32Engine,
  kvDim,
  type ModelConfig,
  readCheckpoint,
  synthesize,
  writeCheckpoint,
} from '../src/index.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));

export function fp32BytesPerToken(c: ModelConfig): number {
  const kv = kvDim(c);
  const perLayer = 2 * c.dim * c.dim + 2 * kv * c.dim + 3 * c.dim * c.hiddenDim + 2 * c.dim;
  return 4 * (c.nLayers * perLayer + c.vocabSize * c.dim + c.dim + c.dim);
}

/** Greedy decoding from BOS; tokens/s over positions 1 … steps − 1 (run.c times from its 2nd token too). */
function measure(engine: Fp32Engine, steps: number): number {
  let token = argmax(engine.forward(1, 0));
  const t0 = performance.now();
  for (let pos = 1; pos < steps; pos++) token = argmax(engine.forward(token, pos));
  return ((steps - 1) * 1000) / (performance.now() - t0);
}

function runC(binary: string, checkpointPath: string, tokenizer: string, steps: number): number {
  // a prompt longer than `steps` keeps every position forced, so run.c cannot stop early on BOS
  const prompt = 'Once upon a time there was a little girl. '.repeat(40);
  const r = spawnSync(
    binary,
    [checkpointPath, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt],
    { encoding: 'utf8' },
  );
  const m = /achieved tok\/s: ([\d.]+)/.exec(`${r.stdout}${r.stderr}`); // run.c reports on stderr
  if (!m) throw new Error(`could not read tok/s from ${binary}: ${r.stderr || r.error}`);
  return Number(m[1]);
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h]! : (s[h - 1]! + s[h]!) / 2;
};
const r3 = (n: number) => Number(n.toFixed(3));
const r1 = (n: number) => Number(n.toFixed(1));

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-bench-'));

/** The run.c binary: LLAMA2C_RUN, or run.c from LLAMA2C_DIR compiled into the temp dir; else undefined. */
function runBinary(): string | undefined {
  if (process.env.LLAMA2C_RUN) return process.env.LLAMA2C_RUN;
  const dir = process.env.LLAMA2C_DIR;
  if (!dir) return undefined;
  const src = join(dir, 'run.c');
  if (!existsSync(src)) throw new Error(`LLAMA2C_DIR=${dir} holds no run.c`);
  const out = join(tmp, 'run');
  const cc = spawnSync('gcc', ['-O3', '-o', out, src, '-lm'], { encoding: 'utf8' });
  if (cc.status !== 0) throw new Error(`gcc -O3 ${src} failed: ${cc.stderr}`);
  return out;
}

const cases = [
  {
    name: 'stories260K',
    file: join(models, 'stories260K.bin'),
    tokenizer: join(models, 'tok512.bin'),
    steps: 256,
  },
  { name: 'synthetic 15M', synth: '15M' as const, tokenizer: join(models, 'tokenizer.bin'), steps: 64 },
];

const pairsWanted = Math.max(1, Number(process.env.BENCH_PAIRS ?? 5));
const rows: Record<string, unknown>[] = [];
try {
  const run = runBinary();
  for (const c of cases) {
    const checkpoint: Checkpoint = c.synth
      ? synthesize(c.synth, 1)
      : readCheckpoint(new Uint8Array(readFileSync(c.file!)));
    let path = c.file;
    if (run && !path) {
      path = join(tmp, `${c.name.replace(/\W/g, '')}.bin`);
      writeFileSync(path, writeCheckpoint(checkpoint, { version: 0 }));
    }
    // created once (each warms up at creation); every measurement restarts at position 0
    const js = new Fp32Engine(checkpoint, { kernels: 'js' });
    const wasm = new Fp32Engine(checkpoint, { kernels: 'wasm' });
    const pairs: { js: number; wasm: number; runC?: number }[] = [];
    for (let p = 0; p < pairsWanted; p++) {
      const pair: { js: number; wasm: number; runC?: number } = { js: 0, wasm: 0 };
      const jobs: (() => void)[] = [
        () => {
          pair.js = measure(js, c.steps);
        },
        () => {
          pair.wasm = measure(wasm, c.steps);
        },
      ];
      if (run)
        jobs.push(() => {
          pair.runC = runC(run, path!, c.tokenizer, c.steps);
        });
      for (let j = 0; j < jobs.length; j++) jobs[(j + p) % jobs.length]!();
      pairs.push(pair);
    }
    const row: Record<string, unknown> = {
      model: c.name,
      steps: c.steps,
      pairs: pairs.length,
      kernels: wasm.kernels,
      tsJsTokPerS: r1(median(pairs.map((p) => p.js))),
      tsWasmTokPerS: r1(median(pairs.map((p) => p.wasm))),
      wasmOverJs: r3(median(pairs.map((p) => p.wasm / p.js))),
      weightBytesPerToken: fp32BytesPerToken(checkpoint.config),
    };
    if (run) {
      const wr = pairs.map((p) => p.wasm / p.runC!);
      const jr = pairs.map((p) => p.js / p.runC!);
      Object.assign(row, {
        runCTokPerS: r1(median(pairs.map((p) => p.runC!))),
        wasmOverRunC: r3(median(wr)),
        wasmOverRunCRange: [r3(Math.min(...wr)), r3(Math.max(...wr))],
        jsOverRunC: r3(median(jr)),
        jsOverRunCRange: [r3(Math.min(...jr)), r3(Math.max(...jr))],
      });
    }
    row.pairsTokPerS = pairs.map((p) => ({
      js: r1(p.js),
      wasm: r1(p.wasm),
      ...(p.runC === undefined ? {} : { runC: r1(p.runC) }),
    }));
    rows.push(row);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '—'));
const range = (r: unknown) => (Array.isArray(r) ? `${r[0]}–${r[1]}` : '—');
console.log(
  `fp32 engine (TypeScript, one thread, greedy from BOS): medians of ${pairsWanted} pairs, spread min–max`,
);
console.log(
  `${'model'.padEnd(15)}${'TS js'.padStart(9)}${'TS wasm'.padStart(9)}${'run.c'.padStart(9)}${'wasm/run.c'.padStart(12)}${'spread'.padStart(13)}${'js/run.c'.padStart(10)}${'spread'.padStart(13)}${'wasm/js'.padStart(9)}${'weights B/tok'.padStart(15)}`,
);
for (const r of rows) {
  console.log(
    `${String(r.model).padEnd(15)}${fmt(r.tsJsTokPerS).padStart(9)}${fmt(r.tsWasmTokPerS).padStart(9)}${fmt(r.runCTokPerS).padStart(9)}${fmt(r.wasmOverRunC).padStart(12)}${range(r.wasmOverRunCRange).padStart(13)}${fmt(r.jsOverRunC).padStart(10)}${range(r.jsOverRunCRange).padStart(13)}${fmt(r.wasmOverJs).padStart(9)}${fmt(r.weightBytesPerToken).padStart(15)}`,
  );
}
if (!process.env.LLAMA2C_RUN && !process.env.LLAMA2C_DIR)
  console.log(
    '(run.c: set LLAMA2C_DIR=/path/to/llama2.c to build its run.c with gcc -O3, or LLAMA2C_RUN=/path/to/run)',
  );
console.log(JSON.stringify({ bench: 'core-fp32', rows }));
