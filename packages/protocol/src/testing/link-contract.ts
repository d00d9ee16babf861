/**
 * The contract every `Link` must meet (reliable, ordered, exactly once), as a test suite any
 * implementation runs against itself — over a clean pipe or a deliberately bad one:
 *
 *   linkContract('my link over TCP', async () => [hostLink, boardLink], { describe, it, expect });
 */
import { TinypipeError } from '../errors/tinypipe-error.js';
import type { Link } from '../link/types.js';
import type { ContractRunner } from './transport-contract.js';

async function take(link: Link, n: number): Promise<Uint8Array[]> {
  const reader = link.messages.getReader();
  const out: Uint8Array[] = [];
  try {
    while (out.length < n) {
      const { value, done } = await reader.read();
      if (done) break;
      out.push(value);
    }
  } finally {
    reader.releaseLock();
  }
  return out;
}

const pattern = (i: number, n: number) =>
  Uint8Array.from({ length: n }, (_, k) => (i * 31 + k * 7 + 1) & 0xff);
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Runs the link contract: `makePair()` gives two connected, ready ends. */
export function linkContract(
  name: string,
  makePair: () => Promise<[Link, Link]> | [Link, Link],
  t: ContractRunner,
  options: { messages?: number; timeoutMs?: number } = {},
): void {
  const count = options.messages ?? 200;
  const timeout = options.timeoutMs ?? 60_000;
  t.describe(`Link contract: ${name}`, () => {
    t.it(
      'delivers every message exactly once, intact and in order, both ways at once',
      async () => {
        const [a, b] = await makePair();
        t.expect(a.specificationVersion).toBe(1);
        const fromA = Array.from({ length: count }, (_, i) => pattern(i, 1 + ((i * 37) % 300)));
        const fromB = Array.from({ length: count }, (_, i) => pattern(i + 7, 1 + ((i * 53) % 300)));
        const [gotB, gotA] = await Promise.all([
          take(b, count),
          take(a, count),
          Promise.all(fromA.map((m) => a.send(m))),
          Promise.all(fromB.map((m) => b.send(m))),
        ]);
        t.expect(gotB.map(hex)).toEqual(fromA.map(hex));
        t.expect(gotA.map(hex)).toEqual(fromB.map(hex));
        const s = a.stats();
        t.expect(s.framesSent > 0 && s.bytesSent > 0 && s.framesReceived > 0).toBe(true);
        await Promise.all([a.close(), b.close()]);
      },
      timeout,
    );

    t.it(
      'does not keep a reference to a sent buffer',
      async () => {
        const [a, b] = await makePair();
        const m = Uint8Array.of(1, 2, 3);
        const sent = a.send(m);
        m.fill(0);
        await sent;
        t.expect(hex((await take(b, 1))[0]!)).toBe('010203');
        await Promise.all([a.close(), b.close()]);
      },
      timeout,
    );

    t.it(
      'rejects a message larger than the link carries with PAYLOAD_TOO_LARGE',
      async () => {
        const [a, b] = await makePair();
        const error = await a.send(new Uint8Array(1 << 20)).then(
          () => undefined,
          (e: unknown) => e,
        );
        t.expect(TinypipeError.hasCode(error, 'PAYLOAD_TOO_LARGE')).toBe(true);
        await Promise.all([a.close(), b.close()]);
      },
      timeout,
    );

    t.it(
      'after close, send rejects with a TinypipeError and messages end',
      async () => {
        const [a, b] = await makePair();
        await a.close();
        const error = await a.send(Uint8Array.of(1)).then(
          () => undefined,
          (e: unknown) => e,
        );
        t.expect(TinypipeError.isInstance(error)).toBe(true);
        const reader = a.messages.getReader();
        const ended = await reader.read().then(
          (r) => r.done,
          () => true,
        );
        t.expect(ended).toBe(true);
        reader.releaseLock();
        await b.close();
      },
      timeout,
    );
  });
}
