// What building the simulated board needs on this machine — cmake, a C compiler, zlib's headers — checked
// one by one, so a failure names the missing piece and the command that installs it.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';

const INSTALL = {
  cmake: 'Debian/Ubuntu: sudo apt-get install cmake; macOS: brew install cmake',
  cc: 'Debian/Ubuntu: sudo apt-get install build-essential; macOS: xcode-select --install',
  zlib: 'Debian/Ubuntu: sudo apt-get install zlib1g-dev; macOS: xcode-select --install (the SDK has zlib)',
} as const;

/** Environment variables (`process.env` by default). */
export type Env = Readonly<Record<string, string | undefined>>;

function run(cmd: string, args: readonly string[], env: Env, input?: string): string {
  return execFileSync(cmd, args, {
    env: env as NodeJS.ProcessEnv,
    input,
    stdio: 'pipe',
    encoding: 'utf8',
  });
}

function missing(what: string, detail: string, install: string, cause: unknown): TinypipeError {
  return new TinypipeError(
    'ENVIRONMENT',
    `building the simulated board needs ${what}, ${detail}; install it (${install}) and run again`,
    { cause, details: { missing: what } },
  );
}

function output(cause: unknown): string {
  const e = cause as { stderr?: string; code?: string };
  return e.code === 'ENOENT'
    ? 'not found on PATH'
    : (e.stderr ?? String(cause)).trim().split('\n').slice(-3).join(' ');
}

export interface Toolchain {
  /** The C compiler CMake will use: `$CC`, else `cc`. */
  readonly cc: string;
  /** `cmake --version` and `cc --version`, first lines: what the cache key hashes. */
  readonly identity: string;
}

/**
 * Checks cmake, the C compiler (`$CC` or `cc`) and `<zlib.h>`, in that order.
 * @throws TinypipeError ENVIRONMENT naming the first missing one and its install command
 */
export function checkToolchain(env: Env = process.env): Toolchain {
  let cmake: string;
  try {
    cmake = run('cmake', ['--version'], env);
  } catch (cause) {
    throw missing('cmake (3.16 or later)', `and cmake is ${output(cause)}`, INSTALL.cmake, cause);
  }
  const cc = env.CC?.trim() || 'cc';
  let ccVersion: string;
  try {
    ccVersion = run(cc, ['--version'], env);
  } catch (cause) {
    throw missing(`a C99 compiler (${cc})`, `and ${cc} is ${output(cause)}`, INSTALL.cc, cause);
  }
  try {
    run(cc, ['-E', '-x', 'c', '-'], env, '#include <zlib.h>\n');
  } catch (cause) {
    throw missing(
      "zlib's headers (zlib.h)",
      `and ${cc} cannot include <zlib.h>: ${output(cause)}`,
      INSTALL.zlib,
      cause,
    );
  }
  const first = (s: string) => s.split('\n')[0]!.trim();
  return { cc, identity: `${first(cmake)}\n${cc}: ${first(ccVersion)}` };
}

/**
 * Where an installed @tinypipe/firmware builds its programs: `$TINYPIPE_FIRMWARE_CACHE`, else
 * `$XDG_CACHE_HOME/tinypipe/firmware`, else `~/.cache/tinypipe/firmware`; one folder per firmware
 * version and compiler, so an upgrade of either builds afresh and nothing is written into node_modules.
 */
export function firmwareCacheDir(version: string, toolchain: Toolchain, env: Env = process.env): string {
  const base =
    env.TINYPIPE_FIRMWARE_CACHE ||
    join(
      env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(homedir(), '.cache'),
      'tinypipe',
      'firmware',
    );
  const hash = createHash('sha256').update(toolchain.identity).digest('hex').slice(0, 12);
  return join(base, `${version}-${hash}`);
}
