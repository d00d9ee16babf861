/** Bad input to any command: one line with the error code, exit 2 (usage) or 1 (input), no stack trace. */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { models, scratchDir } from './cli.test-helper.js';
import { runCapture } from './io/capture.test-helper.js';

const tmp = scratchDir();

describe('bad input: one line with the code, exit 2 (usage) or 1 (input), no stack trace', () => {
  const good = readFileSync(join(models, 'stories260K.bin'));
  const truncated = join(tmp, 'truncated.bin');
  writeFileSync(truncated, good.subarray(0, 1000));
  const magic = join(tmp, 'magic.bin');
  writeFileSync(magic, Buffer.concat([Buffer.from('GGUF'), good.subarray(4)]));
  const badHeader = join(tmp, 'header.bin');
  const h = Buffer.from(good);
  h.writeInt32LE(3, 12); // n_heads = 3 does not divide dim = 64
  writeFileSync(badHeader, h);
  const tooShort = join(tmp, 'short.bin');
  writeFileSync(tooShort, good.subarray(0, 10));
  const sums = join(tmp, 'sums');
  execFileSync('mkdir', ['-p', sums]);
  writeFileSync(join(sums, 'stories260K.bin'), good);
  writeFileSync(join(sums, 'SHA256SUMS'), `${'0'.repeat(64)}  stories260K.bin\n`);

  const cases: [string, string[], number, string][] = [
    ['truncated model', ['generate', '--model', truncated, '--steps', '4'], 1, 'CHECKPOINT_SIZE_MISMATCH'],
    ['header cut', ['inspect', tooShort], 1, 'CHECKPOINT_TRUNCATED'],
    ['wrong magic', ['inspect', magic], 1, 'CHECKPOINT_BAD_MAGIC'],
    ['inconsistent header', ['inspect', badHeader], 1, 'CHECKPOINT_BAD_HEADER'],
    ['missing file', ['inspect', join(tmp, 'nope.bin')], 1, 'FILE_NOT_FOUND'],
    ['hash mismatch', ['inspect', join(sums, 'stories260K.bin')], 1, 'HASH_MISMATCH'],
    [
      'tokenizer of the wrong vocab',
      ['generate', '--tokenizer', join(models, 'tokenizer.bin'), '--steps', '4'],
      1,
      'TOKENIZER_VOCAB_MISMATCH',
    ],
    ['steps 0', ['generate', '--steps', '0'], 2, 'BAD_STEPS'],
    ['steps -3', ['generate', '--steps', '-3'], 2, 'BAD_STEPS'],
    ['steps not a number', ['generate', '--steps', 'ten'], 2, 'USAGE'],
    ['temperature < 0', ['generate', '--temperature', '-1'], 2, 'BAD_TEMPERATURE'],
    ['topp > 1', ['generate', '--topp', '1.5'], 2, 'BAD_TOPP'],
    ['topp < 0', ['generate', '--topp', '-0.1'], 2, 'BAD_TOPP'],
    [
      'prompt longer than seq_len',
      ['generate', '--prompt', 'the cat sat on the mat. '.repeat(120), '--steps', '4'],
      2,
      'PROMPT_TOO_LONG',
    ],
    ['unknown option', ['generate', '--stepz', '4'], 2, 'USAGE'],
    ['unknown command', ['fly'], 2, 'USAGE'],
    [
      'unknown synth shape',
      ['synth', '--shape', '7B', '--seed', '1', '--out', join(tmp, 'x.bin')],
      2,
      'USAGE',
    ],
    ['split without quant', ['generate', '--split', '2,3', '--steps', '4'], 2, 'USAGE'],
  ];
  for (const [name, argv, code, errorCode] of cases) {
    it(`${name} → exit ${code}, ${errorCode}`, async () => {
      const r = await runCapture(argv);
      expect(r.code).toBe(code);
      expect(r.stderr).toMatch(new RegExp(`^tinypipe: ${errorCode}: .+\\n$`));
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('--debug adds the stack trace', async () => {
    const r = await runCapture(['inspect', tooShort, '--debug']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/\n\s+at /);
  });

  it('the installed binary exits with the same status and prints one line', () => {
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const r = spawnSync(process.execPath, [bin, 'generate', '--topp', '7'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^tinypipe: BAD_TOPP: [^\n]+\n$/);
    const help = spawnSync(process.execPath, [bin, 'generate', '--help'], { encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('--temperature');
  });
});
