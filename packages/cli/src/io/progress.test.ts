import { describe, expect, it } from 'vitest';
import type { CliContext } from './context.js';
import { createProgress } from './progress.js';

function context(isTTY: boolean) {
  let stderr = '';
  let stdout = '';
  const ctx: CliContext = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY },
    cwd: '.',
  };
  return { ctx, stderr: () => stderr, stdout: () => stdout };
}

describe('progress', () => {
  it('not a terminal: a line per phase, then at most one a second, and one at 100 %', () => {
    const c = context(false);
    const p = createProgress(c.ctx, 'eval', { everyMs: 60_000 });
    p.phase('loading');
    p.update(1, 10, 'q4');
    p.update(5, 10, 'q4'); // within the interval: not printed
    p.update(10, 10, 'q4');
    p.stop();
    expect(c.stderr()).toBe('tinypipe eval: loading\ntinypipe eval: 10 % (q4)\ntinypipe eval: 100 % (q4)\n');
    expect(c.stdout()).toBe('');
  });

  it('--json off a terminal: nothing at all', () => {
    const c = context(false);
    const p = createProgress(c.ctx, 'build', { json: true });
    p.phase('quantizing');
    p.update(3, 10);
    p.stop();
    expect(c.stderr()).toBe('');
  });

  it('a terminal: a bar drawn on stderr, never stdout', () => {
    const c = context(true);
    const p = createProgress(c.ctx, 'generate', { json: true });
    p.update(64, 256, 'positions');
    p.stop();
    expect(c.stderr()).toMatch(/generate \|.*\| 25% positions/);
    expect(c.stdout()).toBe('');
  });
});
