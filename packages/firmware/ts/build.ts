/**
 * Building the host programs of the firmware with CMake (the build system ESP-IDF uses too).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinypipeError } from '@tinypipe/core';

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
  fuzzImage: string;
  bench: string;
  /** The wire-protocol test harness (test/protocol.c). */
  protocol: string;
}

/**
 * Configures and builds `tinypipe-board` and `tp-vectors` in `build/<variant>` (incremental).
 * @throws TinypipeError INVALID_ARGUMENT when cmake or the C compiler fails, with their output
 */
export function buildPosixBoard(options: BuildOptions = {}): BuiltPrograms {
  const variant = `${options.sanitize ? 'asan' : 'host'}${options.ansi ? '-ansi' : ''}`;
  const dir = join(firmwareRoot(), 'build', variant);
  const programs = {
    dir,
    board: join(dir, 'tinypipe-board'),
    vectors: join(dir, 'tp-vectors'),
    fuzzImage: join(dir, 'fuzz-image'),
    bench: join(dir, 'tp-bench'),
    protocol: join(dir, 'tp-protocol'),
  };
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
      'INVALID_ARGUMENT',
      `building the firmware in ${dir} failed (needs cmake and a C99 compiler):\n${out.stdout ?? ''}${out.stderr ?? ''}`,
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
      'INVALID_ARGUMENT',
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
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-rv32-'));
  const out = join(dir, 'console.txt');
  try {
    const args = [String(steps), ...images].map((a) => `arg=${a}`).join(',');
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
