/**
 * `npm run bench` (core): tokens/s of the fp32 engine on stories260K and a synthetic stories15M, and the
 * bytes of weights each token touches. Set LLAMA2C_RUN to a compiled llama2.c `run` binary (gcc -O3) to
 * measure it side by side on the same checkpoints in the same run.
 *
 *   weights bytes/token = 4 × (every matrix once: n_layers × (dim² × 2 + 2 × kv_dim × dim + 3 × dim × hidden)
 *                             + classifier vocab × dim + the norms) + one embedding row (dim × 4)
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Checkpoint,
  Fp32Engine,
  kvDim,
  type ModelConfig,
  readCheckpoint,
  Sampler,
  synthesize,
  writeCheckpoint,
} from '../src/index.js';

const models = fileURLToPath(new URL('../../../models/', import.meta.url));

export function fp32BytesPerToken(c: ModelConfig): number {
  const kv = kvDim(c);
  const perLayer = 2 * c.dim * c.dim + 2 * kv * c.dim + 3 * c.dim * c.hiddenDim + 2 * c.dim;
  return 4 * (c.nLayers * perLayer + c.vocabSize * c.dim + c.dim + c.dim);
}

function measure(checkpoint: Checkpoint, steps: number): number {
  const engine = new Fp32Engine(checkpoint);
  const sampler = new Sampler({ vocabSize: checkpoint.config.vocabSize, temperature: 0, topp: 0, seed: 1 });
  let token = 1;
  token = sampler.sample(engine.forward(token, 0)); // warm-up position, not timed (run.c times from its 1st token too)
  const t0 = performance.now();
  for (let pos = 1; pos < steps; pos++) token = sampler.sample(engine.forward(token, pos));
  return ((steps - 1) * 1000) / (performance.now() - t0);
}

function runC(binary: string, checkpointPath: string, tokenizer: string, steps: number): number {
  // a prompt longer than `steps` keeps every position forced, so run.c cannot stop early on BOS
  const prompt = 'Once upon a time there was a little girl. '.repeat(40);
  const r = spawnSync(
    binary,
    [checkpointPath, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt],
    {
      encoding: 'utf8',
    },
  );
  const m = /achieved tok\/s: ([\d.]+)/.exec(`${r.stdout}${r.stderr}`); // run.c reports on stderr
  if (!m) throw new Error(`could not read tok/s from ${binary}`);
  return Number(m[1]);
}

const cases = [
  {
    name: 'stories260K',
    file: join(models, 'stories260K.bin'),
    tokenizer: join(models, 'tok512.bin'),
    steps: 256,
  },
  { name: 'synthetic 15M', synth: '15M' as const, tokenizer: join(models, 'tokenizer.bin'), steps: 48 },
];

const runBinary = process.env.LLAMA2C_RUN;
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-bench-'));
const rows: Record<string, unknown>[] = [];
try {
  for (const c of cases) {
    const checkpoint = c.synth
      ? synthesize(c.synth, 1)
      : readCheckpoint(new Uint8Array(readFileSync(c.file!)));
    const ours = measure(checkpoint, c.steps);
    const row: Record<string, unknown> = {
      model: c.name,
      steps: c.steps,
      tsFp32TokPerS: Number(ours.toFixed(1)),
      weightBytesPerToken: fp32BytesPerToken(checkpoint.config),
    };
    if (runBinary) {
      let path = c.file;
      if (!path) {
        path = join(tmp, `${c.name.replace(/\W/g, '')}.bin`);
        writeFileSync(path, writeCheckpoint(checkpoint, { version: 0 }));
      }
      const theirs = runC(runBinary, path, c.tokenizer, c.steps);
      row.runCTokPerS = theirs;
      row.ratioTsOverRunC = Number((ours / theirs).toFixed(3));
    }
    rows.push(row);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}

const fmt = (n: unknown) => (typeof n === 'number' ? n.toLocaleString('en-US') : String(n ?? '—'));
console.log('fp32 engine (TypeScript, one thread, greedy from BOS)');
console.log(
  `${'model'.padEnd(16)}${'tok/s'.padStart(10)}${'weights B/token'.padStart(18)}${'run.c tok/s'.padStart(14)}${'ratio'.padStart(8)}`,
);
for (const r of rows) {
  console.log(
    `${String(r.model).padEnd(16)}${fmt(r.tsFp32TokPerS).padStart(10)}${fmt(r.weightBytesPerToken).padStart(18)}${fmt(r.runCTokPerS).padStart(14)}${fmt(r.ratioTsOverRunC).padStart(8)}`,
  );
}
if (!runBinary)
  console.log('(set LLAMA2C_RUN=/path/to/llama2.c/run, built with gcc -O3, to compare side by side)');
console.log(JSON.stringify({ bench: 'core-fp32', rows }));
