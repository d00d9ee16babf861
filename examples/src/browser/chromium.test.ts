/**
 * The browser app in real headless Chromium, against two virtual ESP32-S3s: the page is bundled as
 * serve.ts bundles it and served through Playwright's routing (http://localhost, a secure context);
 * `navigator.serial` is replaced by ports whose bytes cross to Node (exposeFunction / evaluate) and on to
 * the boards' PTYs. It checks what the page shows — the plan's picture with a group per board, one flash
 * bar per board at 100 %, the story's tokens (the host's story), timing per board — not pixels, and
 * saves a screenshot (TINYPIPE_SCREENSHOT=path to keep it, e.g. docs/pictures/browser-app.png).
 * A page error, a console error, a failed request or a broken bridge ends the wait at once, and every
 * failure says what the page showed, what crossed the bridge and what the boards logged.
 *
 * Needs Chromium (Debian: apt-get install chromium; CHROMIUM_PATH elsewhere) and playwright-core (a
 * devDependency); skipped, saying so, without them.
 */
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateText, QuantEngine, quantize, readCheckpoint, readTokenizer, Sampler } from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { bundlePage } from './serve.js';

/** The part of playwright-core used here (it is loaded by name: the test runs only where it is installed). */
interface Page {
  on(event: 'console', f: (m: { type(): string; text(): string }) => void): void;
  on(event: 'pageerror', f: (e: Error) => void): void;
  on(event: 'requestfailed', f: (r: Request) => void): void;
  route(url: string, handler: (route: Route) => Promise<void>): Promise<void>;
  goto(url: string): Promise<unknown>;
  click(selector: string): Promise<void>;
  check(selector: string): Promise<void>;
  setInputFiles(selector: string, path: string): Promise<void>;
  waitForSelector(selector: string, options: { timeout: number }): Promise<unknown>;
  evaluate<T, A>(f: (arg: A) => T, arg: A): Promise<T>;
  screenshot(options: { path: string; fullPage: boolean }): Promise<unknown>;
}
interface Request {
  url(): string;
  failure(): { errorText: string } | null;
}
interface Route {
  request(): Request;
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
      o: {
        executablePath: string;
        headless: boolean;
        args: string[];
        viewport: { width: number; height: number };
        timeout: number;
      },
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

// .ci/run installs both (ensure-toolchains.sh, the devDependency): on CI a missing one is a broken set-up
it.runIf(missing.length > 0 && Boolean(process.env.CI))('CI has Chromium and playwright-core', () => {
  expect.fail(`missing on CI: ${missing.join(' and ')}`);
});

const models = fileURLToPath(new URL('../../../models/', import.meta.url));
const html = readFileSync(fileURLToPath(new URL('../../browser/index.html', import.meta.url)), 'utf8');
/** The whole run on two boards takes seconds; a page stuck anywhere fails well before the test's timeout. */
const PAGE_TIMEOUT_MS = 30_000;

/**
 * In the page, before its script: `navigator.serial` hands out fake ports, one per requestPort(). What the
 * page writes goes to Node (`__tpWrite`); Node pushes the board's bytes in (`__tpPush`). Like a UART, bytes
 * that arrive while a port is closed wait for its next open (as transport-uart's fake Web Serial port).
 * Streams behave as Chrome's SerialPort's: made on demand while the port is open (a new readable once the
 * last was cancelled), and close() refuses while either is locked ("Cannot cancel a locked stream").
 */
const fakeSerial = `(() => {
  const ports = [0, 1].map((index) => {
    let open = false; let readable = null; let writable = null; let current; const pending = [];
    window.__tpPorts = window.__tpPorts || [];
    window.__tpPorts[index] = (bytes) => {
      const chunk = new Uint8Array(bytes);
      if (current) current.enqueue(chunk); else pending.push(chunk);
    };
    return {
      get readable() {
        if (!open) return null;
        readable ??= new ReadableStream({
          start(c) { current = c; for (const p of pending.splice(0)) c.enqueue(p); },
          cancel() { current = undefined; readable = null; },
        });
        return readable;
      },
      get writable() {
        if (!open) return null;
        writable ??= new WritableStream({ write: (chunk) => window.__tpWrite(index, Array.from(chunk)) });
        return writable;
      },
      async open() {
        if (open) throw new DOMException('The port is already open.', 'InvalidStateError');
        open = true;
      },
      async close() {
        if (readable?.locked) throw new TypeError("Failed to execute 'close' on 'SerialPort': Cannot cancel a locked stream");
        if (writable?.locked) throw new TypeError("Failed to execute 'close' on 'SerialPort': Cannot abort a locked stream");
        await readable?.cancel();
        await writable?.abort();
        open = false; readable = null; writable = null; current = undefined;
      },
      getInfo() { return {}; },
    };
  });
  let next = 0;
  Object.defineProperty(navigator, 'serial', { value: { requestPort: async () => ports[next++] } });
  window.__tpPush = (index, bytes) => window.__tpPorts[index](bytes);
})();`;

/** Processes whose command line holds `marker` (Chromium's profile folder): none may outlive the test. */
function processesWith(marker: string): number[] {
  if (!existsSync('/proc')) return [];
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(marker);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe.skipIf(missing.length > 0)('browser app in headless Chromium', () => {
  // run in afterAll whatever happened, last first: Chromium, the lines, the boards, the temp folder
  const teardown: (() => unknown)[] = [];
  let closing = false; // from here on a broken bridge is the teardown's doing, not a problem of the page
  afterAll(async () => {
    closing = true;
    const errors: unknown[] = [];
    for (const step of teardown.reverse())
      await Promise.resolve()
        .then(step)
        .catch((e) => errors.push(e));
    if (errors.length) throw new AggregateError(errors, `teardown: ${errors.map(String).join('; ')}`);
  });

  it('plans, flashes two virtual boards (a bar each to 100 %), streams the host’s story, shows timing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tinypipe-chromium-'));
    teardown.push(() => rmSync(dir, { recursive: true, force: true }));
    const boards: PtyBoard[] = [];
    for (const i of [0, 1]) {
      const board = await spawnPtyBoard(undefined, {
        flash: join(dir, `board-${i}.flash`),
        flashSize: 16 * 1048576,
        board: i,
      });
      teardown.push(() => board.kill());
      boards.push(board);
    }
    const lines = await Promise.all(boards.map((b) => openSerialPort(b.path)));
    teardown.push(() => Promise.all(lines.map((l) => l.close())));
    const writers = lines.map((l) => l.writable.getWriter());

    const profile = join(dir, 'profile');
    const context = await playwright!.chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      timeout: 20_000,
      viewport: { width: 1000, height: 800 },
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-zygote', // renderers are the browser's own children, which it reaps, not orphans left to init
      ],
    });
    teardown.push(async () => {
      await context.close();
      const left = processesWith(profile);
      for (const pid of left) process.kill(pid, 'SIGKILL');
      if (left.length) throw new Error(`Chromium left ${left.length} process(es) after closing: ${left}`);
    });

    // what went wrong in the page or on the bridge; the first one ends the wait
    const problems: string[] = [];
    let stop: (why: Error) => void = () => {};
    const stopped = new Promise<never>((_, reject) => {
      stop = reject;
    });
    stopped.catch(() => {}); // raced below; a problem before then must not count as unhandled
    const problem = (what: string) => {
      problems.push(what);
      stop(new Error(what));
    };
    const traffic = boards.map(() => ({ toBoard: 0, fromBoard: 0 }));
    await context.exposeFunction('__tpWrite', async (index: number, bytes: number[]) => {
      traffic[index]!.toBoard += bytes.length;
      try {
        await writers[index]!.write(Uint8Array.from(bytes));
      } catch (e) {
        if (!closing) problem(`bridge: writing to board ${index}: ${String(e)}`);
        throw e;
      }
    });
    await context.addInitScript({ content: fakeSerial });
    const page = await context.newPage();
    page.on('pageerror', (e) => problem(`page error: ${e.stack ?? e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problem(`console.error: ${m.text()}`);
    });
    page.on('requestfailed', (r) => problem(`request failed: ${r.url()} (${r.failure()?.errorText})`));
    const js = await bundlePage(false);
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
        try {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            traffic[i]!.fromBoard += value.length;
            await page.evaluate(
              ([k, b]) => (window as never as { __tpPush: (k: number, b: number[]) => void }).__tpPush(k, b),
              [i, Array.from(value)] as [number, number[]],
            );
          }
        } catch (e) {
          if (!closing) problem(`bridge: reading board ${i}: ${String(e)}`);
        }
      })();

    /** What the page shows (its state, log, bars, story and timing), for the checks and for failures. */
    const show = () =>
      page.evaluate(
        () => ({
          state: document.body.dataset.state,
          log: document.getElementById('log')!.textContent ?? '',
          groups: document.querySelectorAll('#plan svg g.board').length,
          bars: [...document.querySelectorAll<HTMLProgressElement>('#boards li.board progress.flash')].map(
            (p) => p.value,
          ),
          percents: [...document.querySelectorAll('#boards li.board .percent')].map((p) => p.textContent),
          holds: [...document.querySelectorAll('#boards li.board .holds')].map((h) => h.textContent),
          tokens: document.querySelectorAll('#story .token').length,
          story: document.getElementById('story')!.textContent ?? '',
          rate: document.getElementById('rate')!.textContent ?? '',
          timing: [...document.querySelectorAll('#boards li.board .timing')].map((t) => t.textContent),
        }),
        undefined,
      );
    const explain = async (what: string) => {
      const shown = await show().catch((e: unknown) => ({ unreadable: String(e) }));
      return [
        what,
        `page: ${JSON.stringify(shown, null, 1)}`,
        `problems: ${problems.length ? problems.join('\n  ') : 'none'}`,
        `bridge (bytes): ${traffic.map((t, i) => `board ${i} ← ${t.toBoard}, → ${t.fromBoard}`).join('; ')}`,
        ...boards.map((b, i) => `board ${i} log: ${b.log().trim().split('\n').slice(-8).join('\n  ')}`),
      ].join('\n');
    };

    await page.click('#add');
    await page.click('#add');
    await page.setInputFiles('#checkpoint', join(models, 'stories260K.bin'));
    await page.setInputFiles('#tokenizer', join(models, 'tok512.bin'));
    await page.check('#flash');
    await page.click('#run');
    try {
      await Promise.race([
        page.waitForSelector('body[data-state="done"], body[data-state="failed"]', {
          timeout: PAGE_TIMEOUT_MS,
        }),
        stopped,
      ]);
    } catch (e) {
      throw new Error(await explain(`the page did not finish: ${(e as Error).message.split('\n')[0]}`));
    }
    const shown = await show();
    if (shown.state !== 'done' || problems.length) throw new Error(await explain(`the page ${shown.state}`));

    expect(shown.groups).toBe(2);
    expect(shown.bars).toEqual([100, 100]);
    expect(shown.percents).toEqual(['100 %', '100 %']);
    // the log says what each board holds in the cards' words
    expect(shown.holds).toHaveLength(2);
    for (const [i, h] of shown.holds.entries()) expect(shown.log).toContain(`board ${i}: ${h}\n`);
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
    expect(shown.rate).toMatch(new RegExp(`^${host.tokens.length} tokens · [\\d.]+ tok/s$`));
    expect(shown.timing).toHaveLength(2);
    for (const t of shown.timing)
      expect(t).toMatch(/^[\d.]+ ms compute · [\d.]+ ms round trip per position$/);

    const png = join(dir, 'browser-app.png');
    await page.screenshot({ path: png, fullPage: true });
    const bytes = readFileSync(png);
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
    expect(bytes.readUInt32BE(16)).toBe(1000); // IHDR width: the viewport's
    if (process.env.TINYPIPE_SCREENSHOT) copyFileSync(png, process.env.TINYPIPE_SCREENSHOT);
  }, 60_000);
});
