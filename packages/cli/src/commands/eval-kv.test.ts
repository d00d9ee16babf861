/** `tinypipe eval --kv` and `tinypipe generate --kv`: KV cache formats (docs/numerics.md §6b) from the CLI. */
import { describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

describe('tinypipe eval --kv', () => {
  it('adds one row per format, against fp32 weights and against the same weights with an fp32 KV cache', async () => {
    const base = ['eval', '--quant', 'q8', '--steps', '32', '--json'];
    const plain = JSON.parse((await runCapture(base)).stdout);
    const r = await runCapture([...base, '--kv', 'int8', '--kv', 'fp16', '--kv', 'int8']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    // the weights' row is the same with or without --kv
    expect(report.rows).toEqual(plain.rows);
    expect(plain.kv).toBeUndefined();
    const q8 = report.rows[0];
    expect(report.kv.map((k: { kv: string; weights: string }) => `${k.weights} ${k.kv}`)).toEqual([
      'q8 int8',
      'q8 fp16',
    ]);
    for (const k of report.kv) {
      // one text for every comparison: fp32's greedy continuation
      expect(k.againstFp32.positions).toBe(q8.positions);
      expect(k.againstFp32.perplexity.reference).toBe(q8.perplexity.reference);
      expect(k.againstFp32Kv.perplexity.reference).toBe(q8.perplexity.candidate);
      expect(k.againstFp32Kv.perplexity.candidate).toBe(k.againstFp32.perplexity.candidate);
      expect(k.againstFp32Kv.meanKL).toBeGreaterThan(0); // the format is applied
      expect(k.againstFp32Kv.top1Agreement).toBeGreaterThanOrEqual(0.9);
    }
    expect(report.kv[0].againstFp32Kv.meanKL).not.toBe(report.kv[1].againstFp32Kv.meanKL);
  });

  it('prints the KV table after the weights table; refuses an unknown format with a usage error', async () => {
    const r = await runCapture(['eval', '--quant', 'q4', '--steps', '16', '--kv', 'fp16']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/KV cache formats, against fp32 weights and against the same weights/);
    expect(r.stdout).toMatch(/^q4 g32 {4}fp16 +\d+\.\d %/m);
    const bad = await runCapture(['eval', '--quant', 'q8', '--kv', 'int4']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--kv.*fp32, fp16, int8/);
  });
});

describe('tinypipe generate --kv', () => {
  const base = ['generate', '--quant', 'q8', '--steps', '24', '--temperature', '0', '--json'];

  it('runs the quantized engine with that KV format: split = unsplit, and not the fp32 cache', async () => {
    const whole = JSON.parse((await runCapture([...base, '--kv', 'int8'])).stdout);
    const split = JSON.parse((await runCapture([...base, '--kv', 'int8', '--split', '1,3,1'])).stdout);
    const fp32 = JSON.parse((await runCapture(base)).stdout);
    expect([whole.kv, fp32.kv]).toEqual(['int8', 'fp32']);
    expect(split.tokens).toEqual(whole.tokens);
    expect(split.layerHashes).toEqual(whole.layerHashes);
    expect(whole.layerHashes).not.toEqual(fp32.layerHashes);
  });

  it('--kv needs --quant', async () => {
    const r = await runCapture(['generate', '--kv', 'fp16', '--steps', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--kv needs --quant/);
  });
});
