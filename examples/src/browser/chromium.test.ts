/**
 * The browser app in real headless Chromium, against two virtual ESP32-S3s: the page is bundled as
 * serve.ts bundles it and served through Playwright's routing (http://localhost, a secure context);
 * `navigator.serial` is replaced by ports whose bytes cross to Node (exposeFunction / evaluate) and on to
 * the boards' PTYs. It checks what the page shows — the plan's picture with a group per board, one flash
 * bar per board at 100 %, the story's tokens (the host's story), timing per board — not pixels, and
 * saves a screenshot (TINYPIPE_SCREENSHOT=path to keep it, e.g. docs/pictures/browser-app.png).
 *
 * Needs Chromium (Debian: apt-get install chromium; CHROMIUM_PATH elsewhere) and playwright-core (a
 * devDependency); skipped, saying so, without them.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
import { spawnPtyBoard } from '@tinypipe/firmware';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { bundlePage } from './serve.js';

/** The part of playwright-core used here (it is loaded by name: the test runs only where it is installed). */
interface Page {
  route(url: string, handler: (route: Route) => Promise<void>): Promise<void>;
  goto(url: string): Promise<unknown>;
  click(selector: string): Promise<void>;
  check(selector: string): Promise<void>;
  setInputFiles(selector: string, path: string): Promise<void>;
  waitForSelector(selector: string, options: { timeout: number }): Promise<unknown>;
  evaluate<T, A>(f: (arg: A) => T, arg: A): Promise<T>;
  screenshot(options: { path: string; fullPage: boolean }): Promise<unknown>;
}
interface Route {
  request(): { url(): string };
  fulfill(r: { status: number; contentType: string; body: string }): Promise<void>;
}
interface Context {
  exposeFunction(name: string, f: (...args: never[]) => unknown): Promise<void>;
  addInitScript(script: { content: string }): Promise<void>;
  newPage(): Promise<Page>;
  close(): Promise<void>;
}
interface Playwright {
  chromium: {
    launchPersistentContext(
      dir: string,
      o: { executablePath: string; headless: boolean; args: string[] },
    ): Promise<Context>;
  };
}

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const moduleName = 'playwright-core';
const playwright = (await import(moduleName).catch(() => undefined)) as Playwright | undefined;
const missing = [
  ...(playwright ? [] : ['playwright-core (npm i -D playwright-core -w @tinypipe/examples)']),
  ...(existsSync(executablePath) ? [] : [`Chromium at ${executablePath} (apt-get install chromium)`]),
];
if (missing.length) console.warn(`browser app in Chromium: skipped, missing ${missing.join(' and ')}`);

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const html = readFileSync(fileURLToPath(new URL('../../browser/index.html', import.meta.url)), 'utf8');

/**
 * In the page, before its script: `navigator.serial` hands out fake ports, one per requestPort(). What the
 * page writes goes to Node (`__tpWrite`); Node pushes the board's bytes in (`__tpPush`). Like a UART, bytes
 * that arrive while a port is closed wait for its next open (as transport-uart's fake Web Serial port).
 */
const fakeSerial = `(() => {
  const ports = [0, 1].map((index) => {
    let current; let pending = []; let readable = null; let writable = null; let open = false;
    window.__tpPorts = window.__tpPorts || [];
    window.__tpPorts[index] = (bytes) => {
      const chunk = new Uint8Array(bytes);
      if (current) current.enqueue(chunk); else pending.push(chunk);
    };
    return {
      get readable() { return readable; },
      get writable() { return writable; },
      async open() {
        if (open) throw new Error('InvalidStateError: the port is already open');
        open = true;
        readable = new ReadableStream({
          start(c) { current = c; for (const p of pending.splice(0)) c.enqueue(p); },
          cancel() { current = undefined; },
        });
        writable = new WritableStream({ write: (chunk) => window.__tpWrite(index, Array.from(chunk)) });
      },
      async close() { open = false; current = undefined; readable = null; writable = null; },
      getInfo() { return {}; },
    };
  });
  let next = 0;
  Object.defineProperty(navigator, 'serial', { value: { requestPort: async () => ports[next++] } });
  window.__tpPush = (index, bytes) => window.__tpPorts[index](bytes);
})();`;

describe.skipIf(missing.length > 0)('browser app in headless Chromium', () => {
  it('plans, flashes two virtual boards (a bar each to 100 %), streams the host’s story, shows timing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinypipe-chromium-'));
    const boards = await Promise.all(
      [0, 1].map((i) =>
        spawnPtyBoard(undefined, { flash: join(dir, `board-${i}.flash`), flashSize: 16 * 1048576, board: i }),
      ),
    );
    const lines = await Promise.all(boards.map((b) => openSerialPort(b.path)));
    const writers = lines.map((l) => l.writable.getWriter());
    const context = await playwright!.chromium.launchPersistentContext(join(dir, 'profile'), {
      executablePath,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const js = await bundlePage(false);
      await context.exposeFunction('__tpWrite', (index: number, bytes: number[]) =>
        writers[index]!.write(Uint8Array.from(bytes)),
      );
      await context.addInitScript({ content: fakeSerial });
      const page = await context.newPage();
      await page.route('http://localhost:8137/**', (route) => {
        const script = route.request().url().endsWith('/dist/main.js');
        return route.fulfill({
          status: 200,
          contentType: script ? 'text/javascript' : 'text/html',
          body: script ? js : html,
        });
      });
      await page.goto('http://localhost:8137/');
      // the boards' bytes into the page, in order, for as long as the lines are open
      for (const [i, line] of lines.entries())
        void (async () => {
          const reader = line.readable.getReader();
          for (;;) {
            const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
            if (done || !value) return;
            await page
              .evaluate(
                ([k, b]) =>
                  (window as never as { __tpPush: (k: number, b: number[]) => void }).__tpPush(k, b),
                [i, Array.from(value)] as [number, number[]],
              )
              .catch(() => {});
          }
        })();
      await page.click('#add');
      await page.click('#add');
      await page.setInputFiles('#checkpoint', join(models, 'stories260K.bin'));
      await page.setInputFiles('#tokenizer', join(models, 'tok512.bin'));
      await page.check('#flash');
      await page.click('#run');
      await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: 120_000 });
      const shown = await page.evaluate(
        () => ({
          state: document.body.dataset.state,
          log: document.getElementById('log')!.textContent,
          groups: document.querySelectorAll('#plan svg g.board').length,
          bars: [...document.querySelectorAll<HTMLProgressElement>('#boards li.board progress.flash')].map(
            (p) => p.value,
          ),
          tokens: document.querySelectorAll('#story .token').length,
          story: document.getElementById('story')!.textContent,
          timing: [...document.querySelectorAll('#boards li.board .timing')].map((t) => t.textContent),
        }),
        undefined,
      );
      expect(shown.state, shown.log ?? '').toBe('done');
      expect(shown.groups).toBe(2);
      expect(shown.bars).toEqual([100, 100]);
      const qm = quantize(readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin')))), {
        weights: 'q8',
      });
      const host = await generateText({
        engine: QuantEngine.fromModel(qm),
        tokenizer: readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512),
        sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed: 1, exp: 'spec' }),
        prompt: 'Once upon a time',
        steps: 200,
      });
      expect(shown.tokens).toBe(host.tokens.length);
      expect(shown.story).toBe(host.text);
      for (const t of shown.timing)
        expect(t).toMatch(/^[\d.]+ ms compute · [\d.]+ ms round trip per position$/);
      const png = join(dir, 'browser-app.png');
      await page.screenshot({ path: png, fullPage: true });
      expect(readFileSync(png).subarray(1, 4).toString()).toBe('PNG');
      if (process.env.TINYPIPE_SCREENSHOT) copyFileSync(png, process.env.TINYPIPE_SCREENSHOT);
    } finally {
      await context.close();
      await Promise.all(boards.map((b) => b.kill()));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
