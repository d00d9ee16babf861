/**
 * Embedding the pipeline in an app: an HTTP endpoint that streams a story as it is generated
 * (`GET /story?prompt=…&seed=…`, chunked text). Concurrent requests share the boards, one stream each.
 *   npm run http -w @tinypipe/examples     then: curl -N 'http://127.0.0.1:8080/story?prompt=Once'
 */
import { createServer, type Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import { connectBoards } from '@tinypipe/pipeline';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { startBoards } from './boards.js';

export async function storyServer(
  listenPort = 8080,
): Promise<{ server: Server; port: number; stop(): Promise<void> }> {
  const sim = await startBoards(2);
  const pipeline = await connectBoards({
    plan: sim.plan,
    manifests: sim.manifests,
    open: (board) => openSerialPort(sim.boards[board]!.path),
  });
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== '/story') {
      res.writeHead(404).end('try /story?prompt=Once%20upon%20a%20time\n');
      return;
    }
    const seed = Number(url.searchParams.get('seed') ?? '1');
    if (!Number.isSafeInteger(seed) || seed < 0) {
      res.writeHead(400).end('seed must be a non-negative integer\n');
      return;
    }
    const abort = new AbortController();
    req.on('close', () => abort.abort());
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    try {
      for await (const t of pipeline.generate({
        tokenizer: sim.tokenizer,
        sampling: { temperature: 0.8, topp: 0.9, seed },
        prompt: url.searchParams.get('prompt') ?? 'Once upon a time',
        steps: Math.min(256, Number(url.searchParams.get('steps') ?? '128') || 128),
        signal: abort.signal,
      }))
        res.write(t.piece);
      res.end('\n');
    } catch (e) {
      res.end(`\n[error: ${(e as Error).message}]\n`);
    }
  });
  await new Promise<void>((resolve) => server.listen(listenPort, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as { port: number }).port,
    stop: async () => {
      server.close();
      await pipeline.close();
      await sim.stop();
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { port } = await storyServer();
  console.log(`streaming stories on http://127.0.0.1:${port}/story?prompt=Once%20upon%20a%20time`);
}
