/** `tinypipe generate` and `tinypipe tokenize` against llama2.c's goldens. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goldenDir, models } from './cli.test-helper.js';
import { runCapture } from './io/capture.test-helper.js';

describe('tinypipe generate reproduces the llama2.c goldens', () => {
  const files = readdirSync(goldenDir).filter((f) => /^stories260K-.*\.json$/.test(f));
  for (const file of files) {
    const g = JSON.parse(readFileSync(join(goldenDir, file), 'utf8'));
    it(file, async () => {
      const r = await runCapture([
        'generate',
        '--model',
        join(models, g.model),
        '--tokenizer',
        join(models, g.tokenizer),
        '--prompt',
        g.prompt,
        '--steps',
        String(g.steps),
        '--temperature',
        String(g.temperature),
        '--topp',
        String(g.topp),
        '--seed',
        String(g.seed),
        '--json',
      ]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout);
      expect(out.tokens).toEqual(g.tokens);
      expect(out.text).toBe(g.text);
      expect(out.seed).toBe(g.seed);
      expect(out.tokensPerSecond).toBeGreaterThan(0);
    });
  }

  it('streams text by default and prints the seed it picked', async () => {
    const r = await runCapture(['generate', '--steps', '20', '--temperature', '0']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^seed: \d+\n/);
    expect(r.stdout.length).toBeGreaterThan(10);
    const json = JSON.parse(
      (await runCapture(['generate', '--steps', '20', '--temperature', '0', '--json'])).stdout,
    );
    expect(r.stdout).toBe(`${json.text}\n`);
  });
});

describe('tinypipe tokenize reproduces the tokenizer goldens', () => {
  const cases = [
    ...JSON.parse(readFileSync(join(goldenDir, 'tok512-encode.json'), 'utf8')),
    ...JSON.parse(readFileSync(join(goldenDir, 'tokenizer32000-encode.json'), 'utf8')),
  ];
  for (const c of cases) {
    it(`${c.tokenizer}: ${JSON.stringify(c.text)}`, async () => {
      const argv = ['tokenize', '--tokenizer', join(models, c.tokenizer), '--text', c.text, '--json'];
      if (c.bos) argv.push('--bos');
      if (c.eos) argv.push('--eos');
      const r = await runCapture(argv);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ tokens: c.tokens });
    });
  }
});
