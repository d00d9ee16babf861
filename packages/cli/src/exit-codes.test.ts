/**
 * Exit statuses and the messages that go with them (io/errors.ts has the table), and what `--help` shows.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinypipeError } from '@tinypipe/protocol';
import type { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from './io/capture.test-helper.js';
import { EXIT, exitCodeFor, Interrupted } from './io/errors.js';
import { createProgram } from './program.js';
import { runCli } from './run.js';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-exit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('exit statuses', () => {
  it('0 ok, 1 input, 2 usage (a bad board name is a flag value), 3 environment', () => {
    expect(exitCodeFor(new TinypipeError('FILE_NOT_FOUND', 'x'))).toBe(EXIT.input);
    expect(exitCodeFor(new Error('bug'))).toBe(EXIT.input);
    expect(exitCodeFor(new TinypipeError('USAGE', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new TinypipeError('BOARD_UNKNOWN', 'x'))).toBe(EXIT.usage);
    expect(exitCodeFor(new TinypipeError('ENVIRONMENT', 'x'))).toBe(EXIT.environment);
  });

  it('an aborted run: 130 for SIGINT, 143 for SIGTERM, 0 and silent when stdout was closed', async () => {
    const status = async (reason: unknown) => {
      let stderr = '';
      const code = await runCli(['eval', '--quant', 'q8', '--steps', '16'], {
        stdout: { write: () => true },
        stderr: { write: (s: string) => (stderr += s) },
        cwd: repo,
        signal: AbortSignal.abort(reason),
      });
      return { code, stderr };
    };
    expect(await status(new Interrupted('SIGINT'))).toEqual({
      code: 130,
      stderr: 'tinypipe: ABORTED: interrupted by SIGINT (Ctrl-C); stopped and cleaned up\n',
    });
    expect((await status(new Interrupted('SIGTERM'))).code).toBe(143);
    expect(await status(new Interrupted('EPIPE'))).toEqual({ code: 0, stderr: '' });
    // an embedder's own reason: 130, and its words
    const timeout = await status(new Error('took longer than 60 s'));
    expect(timeout).toEqual({
      code: 130,
      stderr: 'tinypipe: ABORTED: took longer than 60 s; stopped and cleaned up\n',
    });
  });

  it('boards --port /dev/ttyNOPE: exit 1 naming the port (was 0), with or without --json', async () => {
    const r = await runCapture(['boards', '--port', '/dev/ttyNOPE']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^tinypipe: PORT_NOT_FOUND: 1 of 1 port\(s\) could not be probed: \/dev\/ttyNOPE/,
    );
    const json = await runCapture(['boards', '--port', '/dev/ttyNOPE', '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)[0]).toMatchObject({ port: '/dev/ttyNOPE', state: 'error' });
  });

  it('a bad board name: exit 2 (usage), naming the built-in ones', async () => {
    const r = await runCapture(['plan', '--boards', 'esp32s3-nope']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^tinypipe: BOARD_UNKNOWN: unknown board "esp32s3-nope": use one of esp32s3-n8r2/,
    );
  });

  it('the firmware build failing for want of cmake: exit 3 (environment), not 2', async () => {
    const path = process.env.PATH;
    process.env.PATH = join(tmp, 'no-tools-here');
    try {
      const r = await runCapture(['demo', '--steps', '8', '--seed', '1'], repo);
      expect(r.stderr).toMatch(/^tinypipe: ENVIRONMENT: .*cmake/m);
      expect(r.code).toBe(3);
    } finally {
      process.env.PATH = path;
    }
  });

  it('image inspect on a checkpoint suggests commands that exist (no `tinypipe image build`)', async () => {
    const r = await runCapture(['image', 'inspect', join(repo, 'models', 'stories260K.bin')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/IMAGE_BAD_MAGIC: .*`tinypipe quantize --out` or `tinypipe build`/);
    expect(r.stderr).not.toMatch(/image build/);
  });

  it('flash with every board failing says none is flashed (not "the others are flashed")', async () => {
    const plan = join(tmp, 'two.json');
    const out = join(tmp, 'two');
    const boards = 'esp32s3-n16r8,esp32s3-n16r8';
    expect((await runCapture(['plan', '--boards', boards, '--out', plan])).code).toBe(0);
    expect((await runCapture(['build', '--plan', plan, '--out', out])).code).toBe(0);
    const r = await runCapture([
      'flash',
      '--build',
      out,
      '--port',
      '/dev/ttyNOPE0',
      '--port',
      '/dev/ttyNOPE1',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/2 of 2 board\(s\) failed .*; none is flashed/);
    expect(r.stderr).not.toMatch(/the others? (is|are) flashed/);
  });
});

describe('layer ranges read the same everywhere: inclusive, and "classifier only" for a board without layers', () => {
  it('plan, build and image inspect of a 6-board stories260K plan whose last board holds the classifier', async () => {
    const plan = join(tmp, 'six.json');
    const out = join(tmp, 'six');
    const boards = Array(6).fill('esp32s3-n16r8').join(',');
    const p = await runCapture(['plan', '--boards', boards, '--no-split-classifier', '--out', plan]);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/inclusive/);
    expect(p.stdout).toMatch(/^5\s+esp32s3-n16r8\s+none\s+-\s+0–511\s/m);
    const b = await runCapture(['build', '--plan', plan, '--out', out]);
    expect(b.code).toBe(0);
    expect(b.stdout).toMatch(/^board 0 \(esp32s3-n16r8\): layers 0 \+ embedding, /m);
    expect(b.stdout).toMatch(/^board 5 \(esp32s3-n16r8\): classifier only, /m);
    expect(b.stdout).not.toMatch(/layers (\d)–\1\b/); // never "layers 5–5"
    const i = await runCapture(['image', 'inspect', join(out, 'board-5', 'model.img')]);
    expect(i.stdout).toMatch(/^holds {7}classifier only$/m);
  });

  it('two boards: "layers 0–2" and "layers 3–4", not the half-open "0–3 / 3–5"', async () => {
    const plan = join(tmp, 'split.json');
    const r = await runCapture(['plan', '--boards', 'esp32s3-n16r8,esp32s3-n16r8', '--out', plan]);
    const boards = JSON.parse(readFileSync(plan, 'utf8')).boards as { layers: [number, number] }[];
    expect(boards[0]!.layers[1]).toBe(boards[1]!.layers[0]); // the plan keeps half-open ranges
    const [a, b] = boards.map((x) => `${x.layers[0]}–${x.layers[1] - 1}`);
    expect(r.stdout).toMatch(new RegExp(`^0\\s+esp32s3-n16r8\\s+${a}\\s`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^1\\s+esp32s3-n16r8\\s+${b}\\s`, 'm'));
  });
});

describe('--help', () => {
  const commands = (c: Command, path: string[] = []): string[][] =>
    c.commands.flatMap((sub) => [[...path, sub.name()], ...commands(sub, [...path, sub.name()])]);
  const all = commands(
    createProgram({ stdout: { write: () => true }, stderr: { write: () => true }, cwd: '.' }),
  );

  it('every command ends with an Example line that runs tinypipe', async () => {
    expect(all.length).toBeGreaterThan(14);
    for (const path of all) {
      const r = await runCapture([...path, '--help']);
      expect(r.code, path.join(' ')).toBe(0);
      expect(r.stdout, path.join(' ')).toMatch(/\nExample:\n {2}\$ tinypipe \S/);
    }
  });

  it('lists the choices of enum flags and marks required flags', async () => {
    const plan = (await runCapture(['plan', '--help'])).stdout;
    // what follows a flag, up to the next flag
    const after = (flag: string, text: RegExp) =>
      new RegExp(`${flag}(?:(?!\\n {2}-)[\\s\\S])*${text.source}`);
    expect(plan).toMatch(after('--quant <kind>', /choices: "q4", "q8"/));
    expect(plan).toMatch(after('--objective <o>', /choices: "latency", "throughput"/));
    expect(plan).toMatch(after('--boards <list>', /\(required\)/));
    expect((await runCapture(['eval', '--help'])).stdout).toMatch(after('--quant <kind>', /\(required\)/));
  });
});

describe('link-soak --baud (the README said "not implemented yet")', () => {
  it('paces the line and reports throughput', async () => {
    const r = await runCapture(['link-soak', '--frames', '200', '--baud', '115200', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.payloadBytesPerSecond).toBeGreaterThan(0);
    expect(report.payloadBytesPerSecond).toBeLessThan(115200 / 10); // paced: under the line's bytes/s
    expect(readFileSync(join(repo, 'packages', 'cli', 'README.md'), 'utf8')).not.toMatch(
      /not implemented yet/,
    );
  });
});
