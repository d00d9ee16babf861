/** Commands that read and write model files: inspect, synth, quantize, image inspect; generate --quant, eval. */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { models, scratchDir } from './cli.test-helper.js';
import { runCapture } from './io/capture.test-helper.js';

const tmp = scratchDir();

describe('tinypipe inspect and synth', () => {
  it('inspect --json shows shape, parameters and the tensor table', async () => {
    const r = await runCapture(['inspect', join(models, 'stories260K.bin'), '--json']);
    expect(r.code).toBe(0);
    const info = JSON.parse(r.stdout);
    expect(info.config).toMatchObject({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
    });
    expect(info.parameters).toBe(260_032);
    expect(info.bytes).toBe(statSync(join(models, 'stories260K.bin')).size);
    expect(info.tensors[0]).toMatchObject({ name: 'tokenEmbedding', offset: 28, bytes: 512 * 64 * 4 });
  });

  it('synth writes a checkpoint that inspect reads back, deterministically', async () => {
    const a = join(tmp, 'a.bin');
    const b = join(tmp, 'b.bin');
    expect((await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', a])).code).toBe(0);
    expect(
      (await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', b, '--version', '1'])).code,
    ).toBe(0);
    expect(statSync(a).size).toBe(statSync(join(models, 'stories260K.bin')).size);
    const ia = JSON.parse((await runCapture(['inspect', a, '--json'])).stdout);
    const ib = JSON.parse((await runCapture(['inspect', b, '--json'])).stdout);
    expect(ia.format.version).toBe(0);
    expect(ib.format.version).toBe(1);
    expect(ia.config).toEqual(ib.config);
    const again = join(tmp, 'c.bin');
    await runCapture(['synth', '--shape', '260K', '--seed', '5', '--out', again]);
    expect(readFileSync(again).equals(readFileSync(a))).toBe(true);
  });
});

describe('quantized commands', () => {
  it('quantize writes an image that image inspect verifies; a flipped byte is refused naming the tensor', async () => {
    const out = join(tmp, 'q4.img');
    const q = await runCapture(['quantize', '--weights', 'q4', '--out', out, '--json']);
    expect(q.code).toBe(0);
    expect(JSON.parse(q.stdout)).toMatchObject({ weights: 'q4', groupSize: 32, bytes: statSync(out).size });
    const ok = JSON.parse((await runCapture(['image', 'inspect', out, '--json'])).stdout);
    expect(ok.ok).toBe(true);
    expect(ok.header).toMatchObject({
      layerRange: [0, 5],
      embedding: true,
      vocab: [0, 512],
      vocabRange: [0, 512],
      kind: 'q4',
      groupSize: 32,
      kv: 'fp32',
    });
    const wq = ok.tensors.find((t: { name: string }) => t.name === 'layers.2.wq.data');
    const bad = readFileSync(out);
    bad[wq.offset + 5]! ^= 0x10;
    const badPath = join(tmp, 'bad.img');
    writeFileSync(badPath, bad);
    const r = await runCapture(['image', 'inspect', badPath]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/FAIL tensor:layers\.2\.wq\.data/);
    expect(r.stderr).toMatch(/^tinypipe: IMAGE_TENSOR_CRC: .*layers\.2\.wq\.data/);
  });

  it('generate --quant --split gives the tokens and layer hashes of the unsplit quantized run', async () => {
    const base = [
      'generate',
      '--quant',
      'q4',
      '--steps',
      '24',
      '--temperature',
      '1',
      '--topp',
      '0.9',
      '--seed',
      '5',
      '--json',
    ];
    const whole = JSON.parse((await runCapture(base)).stdout);
    const split = JSON.parse((await runCapture([...base, '--split', '2,1,2'])).stdout);
    expect(whole.split).toEqual([5]);
    expect(split.split).toEqual([2, 1, 2]);
    expect(split.tokens).toEqual(whole.tokens);
    expect(split.layerHashes).toEqual(whole.layerHashes);
    expect(whole.layerHashes).toHaveLength(whole.tokens.length);
    expect(whole.layerHashes[0]).toHaveLength(5);
    expect(whole.layerHashes[0][0]).toMatch(/^[0-9a-f]{8}$/);
    const bad = await runCapture([...base, '--split', '2,2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^tinypipe: INVALID_ARGUMENT: split \[2, 2\] covers 4 layers/);
  });

  it('eval: q8 agrees with fp32 on at least 95% of positions', async () => {
    const r = await runCapture(['eval', '--quant', 'q8', '--steps', '64', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rows[0].weights).toBe('q8');
    expect(report.rows[0].top1Agreement).toBeGreaterThanOrEqual(0.95);
    expect(report.rows[0].meanKL).toBeGreaterThan(0);
  });
});
