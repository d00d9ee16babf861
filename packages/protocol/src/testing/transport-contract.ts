/**
 * The contract every `Transport` must meet, as a test suite any implementation runs against itself:
 *
 *   import { describe, expect, it } from 'vitest';
 *   transportContract('my TCP transport', () => openMyPair(), { describe, it, expect });
 *
 * The test functions are passed in, so this module does not depend on a test runner.
 */
import type { Transport } from '../link/types.js';

export interface ContractRunner {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void>, timeout?: number): void;
  expect(value: unknown): { toEqual(v: unknown): void; toBe(v: unknown): void };
}

async function readBytes(t: Transport, n: number): Promise<Uint8Array> {
  const reader = t.readable.getReader();
  const out = new Uint8Array(n);
  let got = 0;
  try {
    while (got < n) {
      const { value, done } = await reader.read();
      if (done) break;
      out.set(value.subarray(0, n - got), got);
      got += Math.min(value.length, n - got);
    }
  } finally {
    reader.releaseLock();
  }
  return out.subarray(0, got);
}

export interface TransportContractOptions {
  /**
   * Whether one end can see the other close. True for sockets and PTYs; false for a plain UART (and Web
   * Serial over one), which has no hang-up signal — there the link's heartbeat notices a silent peer.
   */
  observesPeerClose?: boolean;
}

/** Runs the transport contract: `makePair()` gives two connected ends (device and host). */
export function transportContract(
  name: string,
  makePair: () => Promise<[Transport, Transport]> | [Transport, Transport],
  t: ContractRunner,
  options: TransportContractOptions = {},
): void {
  t.describe(`Transport contract: ${name}`, () => {
    t.it('declares specification version 1', async () => {
      const [a, b] = await makePair();
      t.expect(a.specificationVersion).toBe(1);
      await Promise.all([a.close(), b.close()]);
    });

    t.it('delivers bytes in order, both ways, whatever the chunking', async () => {
      const [a, b] = await makePair();
      const data = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7 + 3) & 0xff);
      const writer = a.writable.getWriter();
      const sending = (async () => {
        for (let at = 0; at < data.length; at += 997) await writer.write(data.slice(at, at + 997));
      })();
      const got = await readBytes(b, data.length);
      await sending;
      writer.releaseLock();
      t.expect(Array.from(got)).toEqual(Array.from(data));
      const back = b.writable.getWriter();
      await back.write(Uint8Array.of(1, 2, 3, 0, 255));
      back.releaseLock();
      t.expect(Array.from(await readBytes(a, 5))).toEqual([1, 2, 3, 0, 255]);
      await Promise.all([a.close(), b.close()]);
    });

    t.it('does not keep a reference to a written buffer', async () => {
      const [a, b] = await makePair();
      const buf = Uint8Array.of(9, 9, 9);
      const writer = a.writable.getWriter();
      await writer.write(buf);
      buf.fill(0);
      writer.releaseLock();
      t.expect(Array.from(await readBytes(b, 3))).toEqual([9, 9, 9]);
      await Promise.all([a.close(), b.close()]);
    });

    t.it('closing one end ends the other end’s readable (cleanly, or with PORT_DISCONNECTED)', async () => {
      const [a, b] = await makePair();
      if (options.observesPeerClose === false) {
        await Promise.all([a.close(), b.close()]);
        return;
      }
      await a.close();
      const reader = b.readable.getReader();
      // a socket sees a clean end; a serial line only sees its peer vanish
      const outcome = await reader.read().then(
        (r) => (r.done ? 'ended' : 'data'),
        (e: { code?: string }) => e?.code,
      );
      t.expect(['ended', 'PORT_DISCONNECTED'].includes(String(outcome))).toBe(true);
      reader.releaseLock();
      await b.close();
      await b.close(); // idempotent
    });
  });
}
