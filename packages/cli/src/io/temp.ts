/**
 * Temp folders of commands (`tinypipe-NAME-XXXXXX` in the OS temp dir): removed when the work ends, however
 * it ends — returns, throws, is aborted, or the process exits (a second Ctrl-C forces an exit).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Folders not removed yet; the process's exit removes them (synchronously: all `exit` allows). */
const live = new Set<string>();
const removeLive = () => {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
};

export interface TempDir {
  readonly path: string;
  /** Removes the folder (again is fine). */
  remove(): void;
}

/** A fresh temp folder; call `remove()` in a `finally` (the process's exit removes it otherwise). */
export function makeTempDir(name: string): TempDir {
  const path = mkdtempSync(join(tmpdir(), `tinypipe-${name}-`));
  if (live.size === 0) process.once('exit', removeLive);
  live.add(path);
  return {
    path,
    remove() {
      rmSync(path, { recursive: true, force: true });
      live.delete(path);
      if (live.size === 0) process.removeListener('exit', removeLive);
    },
  };
}

/** Runs `work` with a fresh temp folder and removes the folder afterwards. */
export async function withTempDir<T>(name: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = makeTempDir(name);
  try {
    return await work(dir.path);
  } finally {
    dir.remove();
  }
}
