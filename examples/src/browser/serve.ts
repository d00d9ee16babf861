/**
 * Bundles the browser page (main.ts → browser/dist/main.js, esbuild with platform "browser": a Node
 * built-in anywhere in the import graph fails the build) and serves browser/ on http://localhost:8080.
 *   npm run browser -w @tinypipe/examples   (then open the address in Chrome or Edge)
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('../../browser/', import.meta.url));

/** The page's script for a browser; `write: false` returns it instead of writing browser/dist/main.js. */
export async function bundlePage(write = true): Promise<string> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('./main.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    outfile: join(root, 'dist', 'main.js'),
    write,
    logLevel: 'silent',
  });
  return write ? '' : result.outputFiles![0]!.text;
}

const types: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.map': 'application/json',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await bundlePage();
  const port = Number(process.env.PORT ?? 8080);
  createServer(async (req, res) => {
    const path = normalize(new URL(req.url ?? '/', 'http://x').pathname).replace(/^(\.\.[/\\])+/, '');
    try {
      const body = await readFile(join(root, path === '/' ? 'index.html' : path));
      res.writeHead(200, { 'content-type': types[extname(path) || '.html'] ?? 'application/octet-stream' });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  }).listen(port, '127.0.0.1', () => console.log(`tinypipe browser example: http://localhost:${port}/`));
}
