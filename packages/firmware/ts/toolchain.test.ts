import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkToolchain, firmwareCacheDir } from './toolchain.js';

const dir = mkdtempSync(join(tmpdir(), 'tinypipe-toolchain-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A PATH holding only `names`, each a link to the real program found on this machine's PATH. */
function pathWith(name: string, ...names: string[]): string {
  const bin = join(dir, name);
  rmSync(bin, { recursive: true, force: true });
  mkdirSync(bin);
  for (const n of names) {
    const real = (process.env.PATH ?? '')
      .split(':')
      .map((p) => join(p, n))
      .find((p) => {
        try {
          accessSync(p, constants.X_OK);
          return true;
        } catch {
          return false;
        }
      });
    if (real) symlinkSync(real, join(bin, n));
  }
  return bin;
}

/** Expects `fn` to throw ENVIRONMENT with a message matching `message`. */
function expectMissing(fn: () => unknown, message: RegExp): void {
  expect(fn).toThrow(
    expect.objectContaining({ code: 'ENVIRONMENT', message: expect.stringMatching(message) }),
  );
}

describe('checkToolchain', () => {
  it('passes on this machine and names cmake and the compiler', () => {
    const t = checkToolchain();
    expect(t.identity).toMatch(/cmake version/);
    expect(t.identity).toContain(`${t.cc}: `);
  });

  it('says cmake is missing, with the install command', () => {
    expectMissing(
      () => checkToolchain({ PATH: pathWith('none') }),
      /needs cmake .*not found on PATH.*apt-get install cmake.*brew install cmake/,
    );
  });

  it('says the C compiler is missing when cmake is there', () => {
    expectMissing(
      () => checkToolchain({ PATH: pathWith('cmake-only', 'cmake'), CC: 'no-such-cc' }),
      /C99 compiler \(no-such-cc\).*build-essential.*xcode-select/,
    );
  });

  it("says zlib's headers are missing when the compiler cannot include <zlib.h>", () => {
    const cc = join(dir, 'cc-without-zlib');
    writeFileSync(
      cc,
      '#!/bin/sh\nif [ "$1" = --version ]; then echo "fakecc 1.0"; exit 0; fi\necho "<stdin>:1:10: fatal error: zlib.h: No such file or directory" >&2\nexit 1\n',
    );
    chmodSync(cc, 0o755);
    expectMissing(
      () => checkToolchain({ PATH: process.env.PATH, CC: cc }),
      /zlib's headers.*zlib\.h: No such file.*zlib1g-dev/,
    );
  });

  it('keys the cache folder by version and compiler, under $TINYPIPE_FIRMWARE_CACHE or XDG_CACHE_HOME', () => {
    const t = { cc: 'cc', identity: 'cmake version 3.25\ncc: gcc 12' };
    const a = firmwareCacheDir('1.2.3', t, { TINYPIPE_FIRMWARE_CACHE: '/c' });
    expect(a).toMatch(/^\/c\/1\.2\.3-[0-9a-f]{12}$/);
    expect(
      firmwareCacheDir(
        '1.2.3',
        { ...t, identity: 'cmake version 3.25\ncc: clang 16' },
        { TINYPIPE_FIRMWARE_CACHE: '/c' },
      ),
    ).not.toBe(a);
    expect(firmwareCacheDir('1.2.3', t, { XDG_CACHE_HOME: '/x' })).toMatch(
      /^\/x\/tinypipe\/firmware\/1\.2\.3-/,
    );
  });
});
