import { readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
import { transportContract } from '@tinypipe/core/testing';
import { describe, expect, it } from 'vitest';
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
});
