/**
 * Shared fixtures of the bounds tests (bounds.test.ts, bounds-header.test.ts): the ASan/UBSan board built
 * and started once per test file (importing this registers the hooks; PTY boards pushed on `running` are
 * killed after the file), and the two verifiers whose verdicts the tests compare.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkBoardLimits, readImage } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { afterAll, beforeAll } from 'vitest';
import { type Board, spawnBoard } from './board.js';
import { type BuiltPrograms, buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import type { PtyBoard } from './pty-board.js';

export let asan: BuiltPrograms;
export let board: Board;
export const running: PtyBoard[] = [];
beforeAll(() => {
  asan = buildPosixBoard({ sanitize: true });
  board = spawnBoard({ program: asan.board });
});
afterAll(async () => {
  await board.close();
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

/** TS: readImage then the firmware's limits — the code, or OK. */
export function tsVerdict(bytes: Uint8Array): string {
  try {
    checkBoardLimits(readImage(bytes).header);
    return 'OK';
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    return e.code;
  }
}

/** C: the ASan board's 'O' (tp_image_open, then tp_server_fits and the arena) — the status name, or OK. */
export async function cVerdict(bytes: Uint8Array, name = 'crafted.img'): Promise<string> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  try {
    await board.open(path);
    return 'OK';
  } catch (e) {
    return String((e as TinypipeError).details?.boardCode);
  }
}
