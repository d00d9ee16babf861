import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const bin = new URL('../bin/tinypipe.js', import.meta.url).pathname;
const run = (env: Record<string, string>) =>
  execFileSync(process.execPath, [bin, '--help'], { env: { ...process.env, ...env }, encoding: 'utf8' });

describe('the committed bin (bin/tinypipe.js)', () => {
  it('is what npm links, in package.json and in the lockfile (so npm ci links it before any build)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ tinypipe: './bin/tinypipe.js' });
    const lock = JSON.parse(readFileSync(new URL('../../../package-lock.json', import.meta.url), 'utf8'));
    expect(lock.packages['packages/cli'].bin).toEqual({ tinypipe: 'bin/tinypipe.js' });
  });

  it('runs the build', () => {
    expect(run({})).toMatch(/^Usage: tinypipe /);
  });

  it('runs the TypeScript sources through tsx when there is no build (forced here)', () => {
    expect(run({ TINYPIPE_FROM_SOURCE: '1' })).toMatch(/^Usage: tinypipe /);
  });
});
