import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readCheckpoint, readTokenizer } from '@tinypipe/core';
import { parseSha256Sums } from '@tinypipe/core/node';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import {
  BUNDLED_MODELS,
  type BundledModel,
  bundledModelPath,
  checkHash,
  modelsDir,
  readBundledModel,
} from './files.js';

describe('@tinypipe/models', () => {
  it('lists the same SHA-256 as data/SHA256SUMS and the repository models/ folder', async () => {
    const ours = parseSha256Sums(await readFile(join(modelsDir(), 'SHA256SUMS'), 'utf8'));
    const repo = parseSha256Sums(
      await readFile(new URL('../../../models/SHA256SUMS', import.meta.url), 'utf8'),
    );
    expect(Object.fromEntries(ours)).toEqual(BUNDLED_MODELS);
    expect(Object.fromEntries(repo)).toEqual(BUNDLED_MODELS);
  });

  it('reads every bundled file with its hash checked, and they parse', async () => {
    for (const name of Object.keys(BUNDLED_MODELS) as BundledModel[]) {
      const bytes = await readBundledModel(name);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(BUNDLED_MODELS[name]);
    }
    const ckpt = readCheckpoint(await readBundledModel('stories260K.bin'));
    expect(ckpt.config.vocabSize).toBe(512);
    expect(readTokenizer(await readBundledModel('tok512.bin'), 512).vocabSize).toBe(512);
    expect(readTokenizer(await readBundledModel('tokenizer.bin'), 32000).vocabSize).toBe(32000);
  });

  it('refuses a damaged file with HASH_MISMATCH and an unknown name with INVALID_ARGUMENT', async () => {
    const bytes = new Uint8Array(await readFile(bundledModelPath('tok512.bin')));
    expect(() => checkHash('tok512.bin', 'tok512.bin', bytes)).not.toThrow();
    bytes[100] = (bytes[100]! + 1) & 0xff;
    expect(() => checkHash('tok512.bin', 'tok512.bin', bytes)).toThrow(
      /SHA-256 is [0-9a-f]{64}, expected 037cb3/,
    );
    expect(() => checkHash('tok512.bin', 'tok512.bin', bytes)).toThrow(
      expect.objectContaining({ code: 'HASH_MISMATCH' }),
    );
    await expect(readBundledModel('nope.bin' as BundledModel)).rejects.toSatisfy((e) =>
      TinypipeError.hasCode(e, 'INVALID_ARGUMENT'),
    );
  });
});
