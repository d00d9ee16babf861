/**
 * Global setup of every package's tests: the run gets a temp dir of its own (TMPDIR, which `os.tmpdir()`
 * and the workers read), removed at the end; the run fails if a test left a `tinypipe-*` folder in it, so
 * `npm test` leaves none behind. Remove temp folders in `afterAll` / `finally` / `onTestFinished`.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** TMPDIR is where temp files go, not an input of the tests (turbo need not know it). */
const env = process.env as Record<string, string | undefined>;
const TMPDIR = 'TMPDIR';

export default function setup(): () => void {
  const previous = env[TMPDIR];
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-test-run-'));
  env[TMPDIR] = dir;
  // a run stopped early (turbo stops the other tasks when one fails) never reaches the teardown below
  const removeOnExit = () => rmSync(dir, { recursive: true, force: true });
  process.once('exit', removeOnExit);
  return () => {
    process.off('exit', removeOnExit);
    if (previous === undefined) delete env[TMPDIR];
    else env[TMPDIR] = previous;
    // ours only: other tools keep caches in TMPDIR (tsx-0), removed with the rest
    const left = readdirSync(dir).filter((name) => name.startsWith('tinypipe-'));
    rmSync(dir, { recursive: true, force: true });
    if (left.length > 0) {
      process.exitCode = 1; // vitest reports an error thrown here but would still exit 0
      throw new Error(
        `the tests left ${left.length} item(s) in their temp dir: ${left.join(', ')} — remove them in afterAll / finally`,
      );
    }
  };
}
