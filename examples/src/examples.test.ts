import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
import { spawnPtyBoard } from '@tinypipe/firmware';
import { findAll, parseXml } from '@tinypipe/partitioner/testing';
import { transportContract } from '@tinypipe/protocol/testing';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { createFakeWebSerialPair } from '@tinypipe/transport-uart/testing';
import { describe, expect, it } from 'vitest';
import { fakeDocument } from './browser/fake-document.test-helper.js';
import { type BoardTiming, runPage } from './browser/page.js';
import { bundlePage } from './browser/serve.js';
import { createView } from './browser/view.js';
import { storyServer } from './http-stream.js';
import { overTcp, tcpTransport } from './tcp-transport.js';
import { twoBoards } from './two-boards.js';

const models = fileURLToPath(new URL('../../models/', import.meta.url));
const qm = quantize(readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin')))), {
  weights: 'q8',
});
const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
const host = (temperature: number, topp: number, seed: number, steps: number) =>
  generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler: new Sampler({ vocabSize: 512, temperature, topp, seed, exp: 'spec' }),
    prompt: 'Once upon a time',
    steps,
  });

/** Two connected sockets on localhost. */
async function socketPair() {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise<import('node:net').Socket>((r) => server.once('connection', r));
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise<void>((r) => client.once('connect', () => r()));
  const s = await accepted;
  server.close();
  return [tcpTransport(client), tcpTransport(s)] as [
    ReturnType<typeof tcpTransport>,
    ReturnType<typeof tcpTransport>,
  ];
}

transportContract('the example TCP transport', socketPair, { describe, it, expect });

describe('examples', () => {
  it('two-boards: the story the two boards sample is the host run’s', async () => {
    const tokens = await twoBoards(80, () => {});
    expect(tokens).toEqual((await host(0.8, 0.9, 42, 80)).tokens);
  });

  it('tcp-transport: a board reached over TCP shakes hands and generates the host’s greedy story', async () => {
    const tokens = await overTcp(50, () => {});
    expect(tokens).toEqual((await host(0, 1, 1, 50)).tokens);
  });

  it('http-stream: a request streams the story; two at once both finish', async () => {
    const app = await storyServer(0);
    try {
      const get = (seed: number) =>
        fetch(`http://127.0.0.1:${app.port}/story?prompt=Once%20upon%20a%20time&seed=${seed}&steps=60`).then(
          (r) => r.text(),
        );
      const [a, b] = await Promise.all([get(3), get(4)]);
      expect(a.trim()).toBe((await host(0.8, 0.9, 3, 60)).text.trim());
      expect(b.trim()).toBe((await host(0.8, 0.9, 4, 60)).text.trim());
      expect((await fetch(`http://127.0.0.1:${app.port}/nope`)).status).toBe(404);
    } finally {
      await app.stop();
    }
  });

  it('browser: the page bundles for a browser with no Node built-ins', async () => {
    const js = await bundlePage(false);
    expect(js).toContain('navigator');
    expect(js).not.toMatch(/\bfrom\s*["']node:|require\(["']node:/);
  });

  it('browser: the page plans, flashes two virtual ESP32-S3s over Web Serial ports, and streams the host’s story', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinypipe-browser-'));
    const boards = await Promise.all(
      [0, 1].map((i) =>
        spawnPtyBoard(undefined, { flash: join(dir, `board-${i}.flash`), flashSize: 16 * 1048576, board: i }),
      ),
    );
    const lines = await Promise.all(boards.map((b) => openSerialPort(b.path)));
    try {
      // each page-side Web Serial port is joined to a board's PTY, as a USB cable would join it
      const ports = await Promise.all(
        lines.map(async (line) => {
          const [page, cable] = createFakeWebSerialPair();
          await cable.open({ baudRate: 115200 });
          void cable.readable!.pipeTo(line.writable).catch(() => {});
          void line.readable.pipeTo(cable.writable!).catch(() => {});
          return page;
        }),
      );
      const status: string[] = [];
      let streamed = '';
      let picture = '';
      const flashed = new Map<number, [number, number]>();
      const timing: BoardTiming[] = [];
      let tokenEvents = 0;
      const page = fakeDocument();
      const view = createView(page.doc);
      const result = await runPage({
        ports,
        checkpoint: new Uint8Array(readFileSync(join(models, 'stories260K.bin'))),
        tokenizer: new Uint8Array(readFileSync(join(models, 'tok512.bin'))),
        flash: true,
        steps: 60,
        sampling: { temperature: 0.8, topp: 0.9, seed: 9 },
        onStatus: (l) => status.push(l),
        onPiece: (p) => (streamed += p),
        onPlan: (plan, svg) => {
          picture = svg;
          view.onPlan(plan, svg);
        },
        onFlashProgress: (board, done, total) => {
          flashed.set(board, [done, total]);
          view.onFlashProgress(board, done, total);
        },
        onToken: (t) => {
          tokenEvents++;
          view.onToken(t);
        },
        onRequest: view.onRequest,
        onBoardTiming: (t) => {
          timing.push(...t);
          view.onBoardTiming(t);
        },
      });
      const expected = await host(0.8, 0.9, 9, 60);
      expect(result.tokens).toEqual(expected.tokens);
      expect(streamed).toBe(result.text);
      expect(status).toContain('board 1: model.img flashed and verified');
      expect(status.some((l) => /^connected: 2 board\(s\)/.test(l))).toBe(true);
      // what the page draws: the plan's picture, each board's flash bar at 100 %, tokens, timing per board
      const svg = parseXml(picture);
      expect(findAll(svg, (e) => e.attrs.class === 'board')).toHaveLength(2);
      expect([...flashed.entries()].sort()).toEqual([
        [0, [flashed.get(0)![1], flashed.get(0)![1]]],
        [1, [flashed.get(1)![1], flashed.get(1)![1]]],
      ]);
      expect(flashed.get(1)![1]).toBeGreaterThan(100_000);
      expect(tokenEvents).toBe(result.tokens.length);
      expect(timing.map((t) => t.board)).toEqual([0, 1]);
      for (const t of timing) {
        expect(t.positions).toBe(60);
        expect(t.computeMs).toBeGreaterThan(0);
        expect(t.roundTripMs).toBeGreaterThan(t.computeMs);
      }
      // and what view.ts draws from them: the picture, a card per board with its bar at 100 % and its timing
      expect(page.byId('plan').innerHTML).toBe(picture);
      const cards = page.byId('boards').all('li', 'board');
      expect(cards.map((c) => c.getAttribute('data-board'))).toEqual(['0', '1']);
      for (const card of cards) {
        expect(card.all('progress', 'flash').map((p) => p.value)).toEqual([100]);
        expect(card.all('span', 'percent')[0]!.textContent).toBe('100 %');
        expect(card.all('span', 'timing')[0]!.textContent).toMatch(
          /^[\d.]+ ms compute · [\d.]+ ms round trip per position$/,
        );
      }
      expect(page.byId('story').all('span', 'token')).toHaveLength(result.tokens.length);
      expect(page.byId('story').textContent).toBe(result.text);
      expect(page.byId('rate').textContent).toMatch(
        new RegExp(`^${result.tokens.length} tokens · [\\d.]+ tok/s$`),
      );

      // what a user can get wrong, and Run again after: the same port added twice is refused before
      // anything opens; a board that does not answer fails the run with the other's port closed again
      const checkpoint = new Uint8Array(readFileSync(join(models, 'stories260K.bin')));
      const tok = new Uint8Array(readFileSync(join(models, 'tok512.bin')));
      const again = (p: typeof ports, steps = 8) => runPage({ ports: p, checkpoint, tokenizer: tok, steps });
      await expect(again([ports[0]!, ports[0]!])).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/^board 1's serial port is board 0's too/),
      });
      const [silent] = createFakeWebSerialPair(); // nothing on its other end
      await expect(again([ports[0]!, silent])).rejects.toMatchObject({ code: 'TIMEOUT' });
      expect((await again(ports)).tokens).toEqual((await host(0.8, 0.9, 1, 8)).tokens);
    } finally {
      await Promise.all(boards.map((b) => b.kill()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
