/**
 * Test helpers: docs/vectors/esp-rom.json (the ROM and stub behaviours as packets, written from
 * Espressif's documentation and clients) and a transport that plays a scenario of it — it checks each
 * command the flasher sends against the scenario's next `send` and answers with that step's packets.
 */
import { readFileSync } from 'node:fs';
import type { Transport } from '@tinypipe/protocol';
import { SlipDecoder, slipEncode } from '../slip/slip.js';

export interface Step {
  send: string;
  expect: string[];
  note?: string;
}
export interface Scenario {
  name: string;
  loader: 'rom' | 'stub';
  steps: Step[];
}

// biome-ignore lint/suspicious/noExplicitAny: the vectors file is read as plain JSON
export const vectors: any = JSON.parse(
  readFileSync(new URL('../../../../docs/vectors/esp-rom.json', import.meta.url), 'utf8'),
);

/** A scenario of the loader's behaviours, or of what the flasher adds (the file's `flasher` key). */
export function scenario(name: string): Scenario {
  const all = [...vectors.scenarios, ...vectors.flasher.scenarios] as Scenario[];
  const s = all.find((x) => x.name === name);
  if (!s) throw new Error(`no scenario "${name}" in docs/vectors/esp-rom.json`);
  return s;
}

export const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
export const bytes = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));

export interface Scripted extends Transport {
  /** Every packet the flasher sent, hex, before SLIP. */
  sent: string[];
  /** Steps not yet played. */
  remaining(): Step[];
  signals: string[];
  setSignals(s: { dtr?: boolean; rts?: boolean }): Promise<void>;
  setBaudRate(baud: number): Promise<void>;
  baudRate: number;
}

/**
 * Plays `steps` in order: a command equal to the next step's `send` is answered with its `expect`
 * packets (SLIP-framed); anything else is recorded and left unanswered (the flasher times out).
 */
export function scripted(steps: Step[], options: { baudRate?: number } = {}): Scripted {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const readable = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
  });
  let at = 0;
  const sent: string[] = [];
  const decoder = new SlipDecoder((p) => {
    const h = hex(p);
    sent.push(h);
    const step = steps[at];
    if (step?.send !== h) return;
    at++;
    setTimeout(() => {
      for (const e of step.expect) controller.enqueue(slipEncode(bytes(e)));
    }, 0);
  });
  const t: Scripted = {
    specificationVersion: 1,
    readable,
    writable: new WritableStream<Uint8Array>({ write: (chunk) => decoder.push(chunk) }),
    close: async () => {
      try {
        controller.close();
      } catch {
        // already closed
      }
    },
    sent,
    remaining: () => steps.slice(at),
    signals: [],
    async setSignals(s) {
      t.signals.push(`dtr=${s.dtr ? 1 : 0} rts=${s.rts ? 1 : 0}`);
    },
    async setBaudRate(baud) {
      t.baudRate = baud;
    },
    baudRate: options.baudRate ?? 115_200,
  };
  return t;
}
