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

/** Runs `work` with a fresh temp folder and removes the folder afterwards. */
export async function withTempDir<T>(name: string, work: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `tinypipe-${name}-`));
  if (live.size === 0) process.once('exit', removeLive);
  live.add(dir);
  try {
    return await work(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    live.delete(dir);
    if (live.size === 0) process.removeListener('exit', removeLive);
  }
}
