import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// FILE_NOT_FOUND, FILE_READ_FAILED and HASH_MISMATCH are @tinypipe/core's codes (registered by its table)
import type { CoreErrorCodes } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';

/**
 * The bundled files and their SHA-256 (the same as `data/SHA256SUMS`; a test keeps them equal). The
 * hashes live in code so that a damaged or replaced file is caught even if SHA256SUMS goes with it.
 */
export const BUNDLED_MODELS = {
  /** llama2.c checkpoint (legacy v0): dim 64, 5 layers, 8 heads, 4 kv heads, vocab 512, seq 512. */
  'stories260K.bin': 'b0a507e7ad0f626624f17112325e66691f9076d622e1d3274d103d00299f2696',
  /** The 512-token tokenizer trained with stories260K. */
  'tok512.bin': '037cb335abb25d1fa9e8ecae30ed2a3a8ace9302862ebcdc05d51a6bbb10c312',
  /** The 32000-token Llama 2 tokenizer (for the 15M/42M/110M tinyllamas shapes). */
  'tokenizer.bin': '50a52ef822ee9e83de5ce9d0be0a025a773d019437f58b5ff9dcafb063ece361',
} as const;

export type BundledModel = keyof typeof BUNDLED_MODELS;

function isBundled(name: string): name is BundledModel {
  return Object.hasOwn(BUNDLED_MODELS, name);
}

function checkName(name: string): BundledModel {
  if (!isBundled(name)) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `${JSON.stringify(name)} is not a bundled model file: use one of ${Object.keys(BUNDLED_MODELS).join(', ')}`,
      { details: { name } },
    );
  }
  return name;
}

/** The folder holding the bundled files and their `SHA256SUMS` (inside this package). */
export function modelsDir(): string {
  // This module runs as dist/index.js (published) or src/files.ts (tests): data/ is beside both folders.
  return fileURLToPath(new URL('../data/', import.meta.url));
}

/** The absolute path of a bundled file. Reading it directly skips the SHA-256 check; prefer `readBundledModel`. */
export function bundledModelPath(name: BundledModel): string {
  return join(modelsDir(), checkName(name));
}

/**
 * Reads a bundled file and checks its SHA-256.
 *
 * @throws TinypipeError INVALID_ARGUMENT (not a bundled name), FILE_NOT_FOUND, FILE_READ_FAILED,
 *   HASH_MISMATCH (the installed file is damaged: reinstall @tinypipe/models)
 */
export async function readBundledModel(name: BundledModel): Promise<Uint8Array> {
  const path = bundledModelPath(name);
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const tinypipeCode: keyof CoreErrorCodes = code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ_FAILED';
    throw new TinypipeError(
      tinypipeCode,
      `${path}: cannot read the bundled ${name} (${code ?? String(cause)}); reinstall @tinypipe/models`,
      { cause, details: { path } },
    );
  }
  checkHash(name, path, buf);
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** @internal Throws HASH_MISMATCH when `bytes` (read from `path`) are not the bundled `name`. */
export function checkHash(name: BundledModel, path: string, bytes: Uint8Array): void {
  const expected = BUNDLED_MODELS[name];
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== expected) {
    throw new TinypipeError(
      'HASH_MISMATCH',
      `${path}: SHA-256 is ${actual}, expected ${expected}; the installed file is damaged — reinstall @tinypipe/models`,
      { details: { path, expected, actual } },
    );
  }
}
