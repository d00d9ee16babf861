/**
 * Building the host programs of the firmware with CMake (the build system ESP-IDF uses too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinypipeError } from '@tinypipe/protocol';
import { checkToolchain, firmwareCacheDir, type Toolchain } from './toolchain.js';

/** The package folder: C sources in `src/`, ports in `ports/`, `CMakeLists.txt`. */
export function firmwareRoot(): string {
  return fileURLToPath(new URL('..', import.meta.url));
}

export interface BuildOptions {
  /** Build with AddressSanitizer + UndefinedBehaviorSanitizer (separate build folder). */
  sanitize?: boolean;
  /** Use the ANSI reference kernels instead of the optimized ones. */
  ansi?: boolean;
  /** Rebuild even if the programs exist (make is incremental anyway). */
  force?: boolean;
}

export interface BuiltPrograms {
  dir: string;
  board: string;
  vectors: string;
  /** The image fuzzer (test/fuzz_image.c; built in a repository checkout only, not from npm). */
  fuzzImage: string;
  /** The kernel benchmark (test/bench.c; repository checkout only). */
  bench: string;
  /** The wire-protocol test harness (test/protocol.c; repository checkout only). */
  protocol: string;
}

/**
 * Where the programs are built: `build/` in a repository checkout; for a copy installed from npm
 * (under `node_modules`) or when `$TINYPIPE_FIRMWARE_CACHE` is set, the user's cache (see
 * `firmwareCacheDir`), keyed by the firmware version and the compiler.
 */
export function firmwareBuildDir(
  env: Readonly<Record<string, string | undefined>> = process.env,
  toolchain?: Toolchain,
): string {
  const root = firmwareRoot();
  if (!env.TINYPIPE_FIRMWARE_CACHE && !root.split(sep).includes('node_modules')) return join(root, 'build');
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return firmwareCacheDir(version, toolchain ?? checkToolchain(env), env);
}

/**
 * Configures and builds `tinypipe-board` and `tp-vectors` (and the test tools when their sources are
 * there) in `<firmwareBuildDir()>/<variant>`; incremental in a checkout, built once per cache folder
 * when installed from npm.
 * @throws TinypipeError ENVIRONMENT naming what is missing (cmake, a C compiler, zlib headers) and how
 *   to install it, or with the compiler's output when the build itself fails
 */
export function buildPosixBoard(options: BuildOptions = {}): BuiltPrograms {
  const variant = `${options.sanitize ? 'asan' : 'host'}${options.ansi ? '-ansi' : ''}`;
  const toolchain = checkToolchain();
  const base = firmwareBuildDir(process.env, toolchain);
  const dir = join(base, variant);
  const programs = {
    dir,
    board: join(dir, 'tinypipe-board'),
    vectors: join(dir, 'tp-vectors'),
    fuzzImage: join(dir, 'fuzz-image'),
    bench: join(dir, 'tp-bench'),
    protocol: join(dir, 'tp-protocol'),
  };
  const cached = base !== join(firmwareRoot(), 'build');
  if (cached && !options.force && existsSync(programs.board) && existsSync(programs.vectors)) return programs;
  mkdirSync(dir, { recursive: true });
  try {
    if (options.force || !existsSync(join(dir, 'Makefile'))) {
      execFileSync(
        'cmake',
        [
          '-S',
          firmwareRoot(),
          '-B',
          dir,
          `-DTP_SANITIZE=${options.sanitize ? 'ON' : 'OFF'}`,
          `-DTP_KERNELS_OPT=${options.ansi ? 'OFF' : 'ON'}`,
        ],
        { stdio: 'pipe' },
      );
    }
    execFileSync('cmake', ['--build', dir, '--', '-j2'], { stdio: 'pipe' });
  } catch (cause) {
    const out = cause as { stdout?: Buffer; stderr?: Buffer };
    throw new TinypipeError(
      'ENVIRONMENT',
      `building the firmware in ${dir} with ${toolchain.cc} failed; its output:\n${out.stdout ?? ''}${out.stderr ?? ''}`,
      { cause },
    );
  }
  return programs;
}

/**
 * Builds the bare-metal rv32imafc program (ports/rv32-qemu) with riscv64-unknown-elf-gcc + picolibc.
 * @returns the ELF path, to run with `runRv32`
 */
export function buildRv32(): string {
  const out = join(firmwareRoot(), 'build', 'rv32');
  try {
    execFileSync(join(firmwareRoot(), 'ports', 'rv32-qemu', 'build.sh'), [out], { stdio: 'pipe' });
  } catch (cause) {
    const o = cause as { stdout?: Buffer; stderr?: Buffer };
    throw new TinypipeError(
      'ENVIRONMENT',
      `building the rv32 port failed (needs gcc-riscv64-unknown-elf and picolibc-riscv64-unknown-elf: ` +
        `scripts/ensure-toolchains.sh installs them):\n${o.stdout ?? ''}${o.stderr ?? ''}`,
      { cause },
    );
  }
  return join(out, 'tinypipe-rv32.elf');
}

/**
 * Runs the rv32 program under qemu-system-riscv32 (virt, semihosting): greedy `steps` over the stage
 * images. The program's output is captured through a semihosting chardev file.
 * @returns what the program printed
 */
export function runRv32(elf: string, steps: number, images: readonly string[]): string {
  return runRv32Program(elf, [String(steps), ...images]);
}

/**
 * Runs the rv32 program under QEMU with these arguments (ports/rv32-qemu/main.c: e.g. `--standalone …`, a
 * one-board standalone ring). Semihosting splits arguments at spaces and QEMU its options at commas: an
 * argument holds neither.
 * @returns what the program printed
 */
export function runRv32Program(elf: string, programArgs: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-rv32-'));
  const out = join(dir, 'console.txt');
  try {
    const args = programArgs.map((a) => `arg=${a}`).join(',');
    execFileSync(
      'qemu-system-riscv32',
      [
        '-machine',
        'virt',
        '-m',
        '64M',
        '-display',
        'none',
        '-serial',
        'none',
        '-monitor',
        'none',
        '-bios',
        'none',
        '-chardev',
        `file,id=semi,path=${out}`,
        '-semihosting-config',
        `enable=on,target=native,chardev=semi,${args}`,
        '-kernel',
        elf,
      ],
      { stdio: 'pipe', timeout: 300_000 },
    );
    return readFileSync(out, 'utf8');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
