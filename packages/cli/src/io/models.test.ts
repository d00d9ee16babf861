import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from './capture.test-helper.js';
import { loadModel, loadTokenizer } from './models.js';

// An empty folder far from the repository's models/: what the CLI finds must come from @tinypipe/models.
const cwd = mkdtempSync(join(tmpdir(), 'tinypipe-models-cli-'));
const ctx = { stdout: { write: () => true }, stderr: { write: () => true }, cwd };
afterAll(() => rmSync(cwd, { recursive: true, force: true }));

describe('models and tokenizers without a repository', () => {
  it('loads the bundled stories260K and the tokenizer matching each vocabulary', async () => {
    const { checkpoint, label } = await loadModel(ctx, undefined);
    expect(label).toBe('bundled:stories260K.bin');
    expect(checkpoint.config.nLayers).toBe(5);
    expect((await loadTokenizer(ctx, undefined, 512)).vocabSize).toBe(512);
    expect((await loadTokenizer(ctx, undefined, 32000)).vocabSize).toBe(32000);
    expect((await loadTokenizer(ctx, undefined, undefined)).vocabSize).toBe(512);
    await expect(loadTokenizer(ctx, undefined, 100)).rejects.toSatisfy(
      (e) => TinypipeError.hasCode(e, 'USAGE') && /--tokenizer PATH/.test(e.message),
    );
  });

  it('tokenize needs no --tokenizer; generate with synth:15M takes the bundled Llama 2 tokenizer', async () => {
    const tok = await runCapture(['tokenize', '--text', 'Once upon a time'], cwd);
    expect(tok).toMatchObject({ code: 0, stdout: '{"tokens":[403,407,261,378]}\n' });
    const big = await runCapture(['tokenize', '--vocab', '32000', '--text', 'Once upon a time'], cwd);
    expect(big.stdout).toBe('{"tokens":[9038,2501,263,931]}\n');
    const gen = await runCapture(['generate', '--model', 'synth:15M', '--steps', '2', '--seed', '1'], cwd);
    expect(gen.stderr).not.toMatch(/no model given/);
    expect(gen.code).toBe(0);
  });

  it('demo and every command that tokenizes take --tokenizer', async () => {
    for (const command of ['generate', 'eval', 'demo', 'tokenize']) {
      const help = await runCapture([command, '--help'], cwd);
      expect(help.stdout, command).toMatch(/--tokenizer <path>/);
    }
  });
});
