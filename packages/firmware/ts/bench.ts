/**
 * `npm run bench` (firmware): host tokens/s of the C engine (one thread, greedy from BOS, whole-model
 * image, optimized kernels, gcc -O3 -ffp-contract=off) on a synthetic stories15M, q4 and q8, and the
 * weight bytes streamed per token. With LLAMA2C_RUNQ set to a compiled llama2.c `runq` (gcc -O3), the
 * same synthetic model exported as llama2.c v2 (Q8_0, group 32) is timed side by side in this run.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, quantize, synthesize, writeCheckpoint } from '@tinypipe/core';
import { buildPosixBoard } from './build.js';

const steps = 128;
const programs = buildPosixBoard();
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-fw-bench-'));
const checkpoint = synthesize('15M', 1);
const rows: Record<string, unknown>[] = [];
try {
  for (const kind of ['q4', 'q8'] as const) {
    const path = join(tmp, `15M-${kind}.img`);
    const qm = quantize(checkpoint, { weights: kind, groupSize: 32 });
    writeFileSync(path, buildImage(qm, { layers: [0, 6], embedding: true, classifier: true }));
    const out = execFileSync(programs.bench, [path, String(steps)], { encoding: 'utf8' });
    rows.push({
      model: 'synthetic 15M',
      engine: `tinypipe C ${kind} g32`,
      tokPerS: Number(/tok\/s ([\d.]+)/.exec(out)![1]),
      weightBytesPerToken: Number(/bytes\/token (\d+)/.exec(out)![1]),
    });
  }
  const runq = process.env.LLAMA2C_RUNQ;
  if (runq) {
    const path = join(tmp, '15M-v2.bin');
    writeFileSync(path, writeCheckpoint(checkpoint, { version: 2, groupSize: 32 }));
    const tokenizer = fileURLToPath(new URL('../../../models/tokenizer.bin', import.meta.url));
    // a prompt longer than `steps` keeps every position forced, so runq cannot stop early on BOS
    const prompt = 'Once upon a time there was a little girl. '.repeat(20);
    const r = spawnSync(runq, [path, '-z', tokenizer, '-t', '0', '-n', String(steps), '-i', prompt], {
      encoding: 'utf8',
    });
    const m = /achieved tok\/s: ([\d.]+)/.exec(`${r.stdout}${r.stderr}`);
    if (m)
      rows.push({
        model: 'synthetic 15M',
        engine: 'llama2.c runq Q8_0 g32',
        tokPerS: Number(Number(m[1]).toFixed(2)),
      });
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`C engine on the host (one thread, greedy from BOS, ${steps} steps)`);
for (const r of rows) {
  console.log(
    `${String(r.engine).padEnd(26)}${String(r.tokPerS).padStart(9)} tok/s${r.weightBytesPerToken ? `  ${(r.weightBytesPerToken as number).toLocaleString('en-US')} weight bytes/token` : ''}`,
  );
}
if (!process.env.LLAMA2C_RUNQ)
  console.log('(set LLAMA2C_RUNQ=/path/to/llama2.c/runq, built with gcc -O3, to compare side by side)');
console.log(JSON.stringify({ bench: 'firmware-host', rows }));
