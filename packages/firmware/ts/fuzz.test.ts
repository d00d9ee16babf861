/**
 * The libFuzzer targets (test/fuzz/fuzz_*.c, built and run by scripts/fuzz.sh under ASan + UBSan): each
 * replays its committed regressions (test/fuzz/regressions/<target>/), then fuzzes from its seeds
 * (test/fuzz/corpus/<target>/) for TP_FUZZ_SECONDS (default 10), two at a time. A crash fails the test with
 * the reproducer's path; commit it under regressions/<target>/ with the fix. Long runs: `npm run fuzz -- 600`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { fuzzRingImages, fuzzServeImages } from './fuzz-images.js';

const firmware = join(dirname(fileURLToPath(import.meta.url)), '..');
const script = join(firmware, 'scripts', 'fuzz.sh');
const seconds = Number(process.env.TP_FUZZ_SECONDS ?? 10);

/** Why this machine cannot build a libFuzzer target, or undefined when it can. */
function missing(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-fuzz-probe-'));
  try {
    const src = join(dir, 'probe.c');
    writeFileSync(
      src,
      'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n) { return (void)d, (int)n * 0; }\n',
    );
    const r = spawnSync('clang', ['-fsanitize=fuzzer,address,undefined', src, '-o', join(dir, 'probe')], {
      encoding: 'utf8',
    });
    if (r.error) return 'clang is not installed (scripts/ensure-toolchains.sh installs it)';
    if (r.status !== 0) return `clang cannot build a libFuzzer target: ${r.stderr.trim().split('\n')[0]}`;
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const why = missing();
it.runIf(why !== undefined && Boolean(process.env.CI))('CI has clang with libFuzzer', () => {
  expect.fail(why);
});

it.skipIf(why !== undefined)(
  `every fuzz target replays its regressions and runs ${seconds} s without a crash${why ? ` (skipped: ${why})` : ''}`,
  () => {
    // fuzz_serve's and fuzz_ring's images in the image format of this checkout (the committed test/fuzz/data
    // may be older)
    const data = mkdtempSync(join(tmpdir(), 'tinypipe-fuzz-data-'));
    for (const [name, bytes] of Object.entries({ ...fuzzServeImages(), ...fuzzRingImages() }))
      writeFileSync(join(data, name), bytes);
    const r = spawnSync(script, ['run', String(seconds)], {
      cwd: firmware,
      encoding: 'utf8',
      env: { ...process.env, TP_FUZZ_JOBS: process.env.TP_FUZZ_JOBS ?? '2', TP_FUZZ_DATA: data },
    });
    rmSync(data, { recursive: true, force: true });
    // stderr names each crash's reproducer ("FUZZ CRASH <target>: reproducer <path> …")
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    for (const target of ['frame', 'link', 'serve', 'image', 'rom', 'sampler', 'tokenizer', 'ring'])
      expect(r.stdout).toMatch(new RegExp(`^fuzz ${target}: \\d+ runs`, 'm'));
  },
  300_000,
);
