/**
 * Node-only file helpers: verified reads (SHA256SUMS), atomic writes, the bundled models folder.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinypipeError } from '@tinypipe/protocol';
import { readCheckpoint } from '../checkpoint/read.js';
import type { Checkpoint } from '../checkpoint/types.js';

/** Parses a `sha256sum` listing: `<64 hex>  <name>` per line (`*name` binary marker accepted). */
export function parseSha256Sums(text: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of text.split(/\r?\n/)) {
    const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(m[2]!, m[1]!.toLowerCase());
  }
  return sums;
}

async function readRaw(path: string): Promise<Uint8Array> {
  try {
    const buf = await readFile(path);
    return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new TinypipeError('FILE_NOT_FOUND', `${path}: no such file; check the path`, {
        cause,
        details: { path },
      });
    }
    throw new TinypipeError('FILE_READ_FAILED', `${path}: cannot read (${code ?? String(cause)})`, {
      cause,
      details: { path },
    });
  }
}

/**
 * Reads a whole file. When a `SHA256SUMS` file in the same folder lists this file's name, the SHA-256
 * of the bytes must match it.
 *
 * @throws TinypipeError FILE_NOT_FOUND, FILE_READ_FAILED, HASH_MISMATCH
 */
export async function readVerifiedFile(path: string): Promise<Uint8Array> {
  const bytes = await readRaw(path);
  const sumsPath = join(dirname(path), 'SHA256SUMS');
  if (existsSync(sumsPath)) {
    const expected = parseSha256Sums(new TextDecoder().decode(await readRaw(sumsPath))).get(basename(path));
    if (expected !== undefined) {
      const actual = createHash('sha256').update(bytes).digest('hex');
      if (actual !== expected) {
        throw new TinypipeError(
          'HASH_MISMATCH',
          `${path}: SHA-256 is ${actual} but ${sumsPath} says ${expected}; the file is damaged or was replaced — restore it (git checkout / download again)`,
          { details: { path, expected, actual } },
        );
      }
    }
  }
  return bytes;
}

/** Reads, verifies (see `readVerifiedFile`) and parses a llama2.c checkpoint file. */
export async function loadCheckpoint(path: string): Promise<Checkpoint> {
  const bytes = await readVerifiedFile(path);
  try {
    return readCheckpoint(bytes);
  } catch (error) {
    if (TinypipeError.isInstance(error)) {
      throw new TinypipeError(error.code, `${path}: ${error.message}`, {
        cause: error,
        details: { path, ...error.details },
      });
    }
    throw error;
  }
}

/**
 * Writes `bytes` to a temporary file beside `path`, then renames it over `path`: readers see the old
 * file or the whole new one, never half of it.
 *
 * @throws TinypipeError FILE_WRITE_FAILED
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    throw new TinypipeError('FILE_WRITE_FAILED', `${path}: cannot write (${code ?? String(cause)})`, {
      cause,
      details: { path },
    });
  }
}

/**
 * The repository's `models/` folder (bundled stories260K, tok512, tokenizer.bin and their SHA256SUMS),
 * found by walking up from this module; `undefined` when not found (an install from npm has no such folder:
 * the same files ship in `@tinypipe/models`, read with their SHA-256 checked by `readBundledModel`).
 */
export function bundledModelsDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'models');
    if (existsSync(join(candidate, 'SHA256SUMS'))) return candidate;
    const parent = resolve(dir, '..');
    if (parent === dir) return undefined;
    dir = parent;
  }
}
