/**
 * `tinypipe demo --standalone` end to end (issue 21 item 5): a ring of 2 or 3 simulated boards, flashed
 * over the ESP ROM protocol, tells the stories on board 0's console with no host link — the host's
 * serial ports are counted here, independently of the demo — and each story equals the host's own run
 * (computed here with @tinypipe/core for the same prompt and seed), greedy and seeded top-p; a board
 * killed and restarted mid-story is reported on the console and the next story runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
import { describe, expect, it, vi } from 'vitest';
import { models } from '../cli.test-helper.js';
import { runCapture } from '../io/capture.test-helper.js';
import { runCli } from '../run.js';

/** Every serial port the CLI opens, and whether it is still open (the host's only way to reach a board). */
const ports = vi.hoisted(() => ({ opened: [] as string[], open: new Set<number>() }));
vi.mock('@tinypipe/transport-uart/node', async (importOriginal) => {
  const real = await importOriginal<typeof import('@tinypipe/transport-uart/node')>();
  return {
    ...real,
    openSerialPort: async (path: string, options?: Parameters<typeof real.openSerialPort>[1]) => {
      const port = await real.openSerialPort(path, options);
      const id = ports.opened.push(path);
      ports.open.add(id);
      const close = port.close.bind(port);
      return Object.assign(port, {
        close: async () => {
          ports.open.delete(id);
          await close();
        },
      });
    },
  };
});
/** A link to a board would be made by the pipeline: none may be. */
const links = vi.hoisted(() => ({ made: 0 }));
vi.mock('@tinypipe/pipeline', async (importOriginal) => {
  const real = await importOriginal<typeof import('@tinypipe/pipeline')>();
  return {
    ...real,
    connectBoards: (...args: Parameters<typeof real.connectBoards>) => {
      links.made++;
      return real.connectBoards(...args);
    },
  };
});

const qm = quantize(readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin')))), {
  weights: 'q8',
});
const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);

/** The host's run, computed here (not by the demo). */
async function host(prompt: string, steps: number, temperature: number, seed: number) {
  return generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp: 'spec' }),
    prompt,
    steps,
  });
}
const flat = (s: string) => s.replace(/\n/g, '');

interface Summary {
  boards: number;
  hostPorts: { opened: number; openAfterFlashing: number };
  stories: { story: number; seed: number; text: string; tokens: number; abandoned: string | null }[];
  status: string[];
  identicalToHost: boolean;
}

describe('tinypipe demo --standalone', () => {
  for (const [boards, temperature, atOnce] of [
    [2, 0, 1],
    [2, 0.8, 1],
    [3, 0, 1],
    [3, 0.8, 2],
  ] as const)
    it(`${boards} boards, ${temperature === 0 ? 'greedy' : `top-p, ${atOnce} stor${atOnce > 1 ? 'ies' : 'y'} at once`}: board 0 tells the host's stories, the host holding no port after flashing`, async () => {
      ports.opened.length = 0;
      links.made = 0;
      const seed = 40 + boards;
      const args = [
        'demo',
        '--standalone',
        '--boards',
        String(boards),
        '--steps',
        '90',
        '--seed',
        String(seed),
        '--temperature',
        String(temperature),
        '--streams',
        String(atOnce),
        '--stories',
        String(atOnce),
      ];
      // the story as it reaches stdout, and how many ports the host held at each write
      let stdout = '';
      let stderr = '';
      const heldWhileTelling: number[] = [];
      const code = await runCli(args, {
        stdout: {
          write: (s: string) => {
            heldWhileTelling.push(ports.open.size);
            stdout += s;
          },
        },
        stderr: { write: (s: string) => (stderr += s) },
        cwd: process.cwd(),
      });
      expect(code, stderr).toBe(0);
      expect(ports.opened).toHaveLength(boards); // the flasher's, one a board: nothing after
      expect(new Set(ports.opened).size).toBe(boards);
      expect(heldWhileTelling.length).toBeGreaterThan(0);
      expect(heldWhileTelling.every((n) => n === 0)).toBe(true);
      expect(links.made).toBe(0);
      const story1 = await host('Once upon a time', 90, temperature, seed);
      expect(flat(stdout)).toBe(flat(story1.text));
      expect(stderr).toMatch(/identical to the unsplit host run: yes/);

      const json = await runCapture([...args, '--json']);
      expect(json.code, json.stderr).toBe(0);
      const s = JSON.parse(json.stdout) as Summary;
      expect(s.hostPorts).toEqual({ opened: boards, openAfterFlashing: 0 });
      expect(s.stories).toHaveLength(atOnce);
      for (const story of s.stories) {
        const h = await host('Once upon a time', 90, temperature, seed + story.story - 1);
        expect(story.abandoned).toBeNull();
        expect(flat(story.text)).toBe(flat(h.text));
        expect(story.tokens).toBe(h.tokens.length);
      }
      expect(s.status.join('\n')).toContain(`${boards} boards`);
      expect(ports.open.size).toBe(0);
    }, 120_000);

  it('a board killed and restarted mid-story: the console names it, the story is abandoned, the next one is the host’s', async () => {
    ports.opened.length = 0;
    const r = await runCapture([
      'demo',
      '--standalone',
      '--boards',
      '3',
      '--steps',
      '150',
      '--seed',
      '9',
      '--kill',
      '1',
      '--emulate',
      'esp32s3-n16r8', // paced like the board: story 1 lasts while the cable is pulled
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    expect(s.stories[0]!.abandoned).toMatch(/restarted/);
    expect(s.status.some((l) => /^board 1 stopped answering or restarted/.test(l))).toBe(true);
    const h = await host('Once upon a time', 150, 0.8, 10);
    expect(s.stories[1]!.abandoned).toBeNull();
    expect(flat(s.stories[1]!.text)).toBe(flat(h.text));
    expect(s.identicalToHost).toBe(true);
    expect(ports.opened).toHaveLength(3); // restarting a board opened nothing
  }, 120_000);

  it('--quant q4 --kv int8: the ring runs those numerics, and its story is the host run with the same weights and KV cache format, not the q8 one', async () => {
    const r = await runCapture([
      'demo',
      '--standalone',
      '--boards',
      '2',
      '--steps',
      '60',
      '--seed',
      '3',
      '--temperature',
      '0',
      '--quant',
      'q4',
      '--kv',
      'int8',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary;
    const q4 = quantize(readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin')))), {
      weights: 'q4',
    });
    const run = (kv: 'fp32' | 'int8') =>
      generateText({
        engine: QuantEngine.fromModel(q4, { kv }),
        tokenizer,
        sampler: new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 3, exp: 'spec' }),
        prompt: 'Once upon a time',
        steps: 60,
      });
    const [int8, fp32] = await Promise.all([run('int8'), run('fp32')]);
    expect(flat(s.stories[0]!.text)).toBe(flat(int8.text));
    expect(s.identicalToHost).toBe(true);
    // the check would notice a ring that ignored --kv: the formats' greedy stories differ here
    expect(int8.text).not.toBe(fp32.text);
  }, 120_000);

  it('refuses what a ring cannot do: a split classifier, layer hashes', async () => {
    for (const flag of ['--split-classifier', '--hashes']) {
      const r = await runCapture(['demo', '--standalone', '--boards', '2', flag]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`USAGE: ${flag}: .*drop it with --standalone`));
    }
  });

  it('--emulate --json: the ring’s rate over all its stories, as the host-driven demo reports its own', async () => {
    const r = await runCapture([
      'demo',
      '--standalone',
      '--boards',
      '2',
      '--streams',
      '2',
      '--steps',
      '40',
      '--seed',
      '5',
      '--emulate',
      'esp32s3-n16r8',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout) as Summary & {
      tokens: number;
      seconds: number;
      tokensPerSecond: number;
      emulated: string | null;
      predicted: { tokensPerSecond: number };
    };
    const counts = await Promise.all(
      [5, 6].map(async (seed) => (await host('Once upon a time', 40, 0.8, seed)).tokens.length),
    );
    expect(s.tokens).toBe(counts[0]! + counts[1]!);
    expect(s.seconds).toBeGreaterThan(0);
    expect(s.tokensPerSecond).toBeCloseTo(s.tokens / s.seconds, 0);
    expect(s.emulated).toBe('esp32s3-n16r8');
    expect(s.predicted.tokensPerSecond).toBeGreaterThan(0);
  }, 120_000);

  it('refuses what a ring cannot do', async () => {
    const kill0 = await runCapture(['demo', '--standalone', '--boards', '2', '--kill', '0']);
    expect(kill0.code).toBe(2);
    expect(kill0.stderr).toMatch(/--kill must name a board 1 … 1: board 0 tells the stories/);
    const ber = await runCapture(['demo', '--standalone', '--ber', '1e-4']);
    expect(ber.code).toBe(2);
    expect(ber.stderr).toMatch(/a ring has no host link/);
  });
});
