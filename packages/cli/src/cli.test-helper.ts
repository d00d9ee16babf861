/** Fixtures of the CLI's end-to-end tests (test helper, not part of the package). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

export const repo = fileURLToPath(new URL('../../../', import.meta.url));
/** The bundled checkpoints and tokenizers. */
export const models = join(repo, 'models');
/** llama2.c's outputs the CLI must reproduce. */
export const goldenDir = join(repo, 'golden');

/** A fresh `tinypipe-cli-*` temp folder, removed after the test file's tests. */
export function scratchDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-cli-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
