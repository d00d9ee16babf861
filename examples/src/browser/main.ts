/**
 * The page around page.ts: file pickers, a button per board's port, Run/Stop, and `navigator.serial`;
 * view.ts draws what page.ts reports (the plan's picture, flash progress, tokens, timing).
 * Bundled for the browser and served on localhost by `npm run browser -w @tinypipe/examples` (serve.ts);
 * Web Serial needs a secure context, which localhost is.
 */
import type { WebSerialPortLike } from '@tinypipe/transport-uart/web';
import { runPage } from './page.js';
import { createView } from './view.js';

/** The part of `navigator.serial` used here (Web Serial is not in TypeScript's DOM types). */
interface Serial {
  requestPort(): Promise<WebSerialPortLike>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const view = createView(document);
const bytesOf = async (input: HTMLInputElement, what: string) => {
  const file = input.files?.[0];
  if (!file) throw new Error(`choose the ${what} file first`);
  return new Uint8Array(await file.arrayBuffer());
};
const serial = (navigator as Navigator & { serial?: Serial }).serial;
if (!serial) view.onStatus('this browser has no Web Serial: use Chrome or Edge, on https or localhost');

// each requestPort() needs its own click, so ports are added one button press at a time
const ports: WebSerialPortLike[] = [];
$('add').addEventListener('click', async () => {
  try {
    ports.push(await serial!.requestPort());
    $('ports').textContent = `${ports.length} board(s)`;
  } catch {
    view.onStatus('no port chosen');
  }
});

let abort: AbortController | undefined;
$('run').addEventListener('click', async () => {
  abort = new AbortController();
  $<HTMLButtonElement>('run').disabled = true;
  $<HTMLButtonElement>('stop').disabled = false;
  view.reset();
  document.body.dataset.state = 'running';
  try {
    await runPage({
      ports,
      checkpoint: await bytesOf($('checkpoint'), 'checkpoint'),
      tokenizer: await bytesOf($('tokenizer'), 'tokenizer'),
      flash: $<HTMLInputElement>('flash').checked,
      prompt: $<HTMLInputElement>('prompt').value,
      ...view,
      signal: abort.signal,
    });
    document.body.dataset.state = 'done';
  } catch (e) {
    const err = e as { code?: string; message?: string };
    view.onStatus(`${err.code ?? 'error'}: ${err.message ?? String(e)}`);
    document.body.dataset.state = 'failed';
  } finally {
    $<HTMLButtonElement>('run').disabled = false;
    $<HTMLButtonElement>('stop').disabled = true;
  }
});
$('stop').addEventListener('click', () => abort?.abort());
