import { linkContract, transportContract } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { ReliableLink } from '../link/reliable-link.js';
import { boardHello } from '../testing/board-hello.js';
import { createFakeWebSerialPair } from '../testing/fake-web-serial.js';
import { openWebSerialPort } from './web-serial.js';

async function pair() {
  const [pa, pb] = createFakeWebSerialPair();
  return [await openWebSerialPort(pa), await openWebSerialPort(pb)] as const;
}

// a UART has no hang-up signal: the far end closing is not visible here (the link's heartbeat sees it)
transportContract(
  'Web Serial adapter (fake ports)',
  async () => [...(await pair())],
  { describe, it, expect },
  { observesPeerClose: false },
);

const board = boardHello();

linkContract(
  'ReliableLink over the Web Serial adapter',
  async () => {
    const [a, b] = await pair();
    return Promise.all([ReliableLink.connect(a), ReliableLink.accept(b, board)]);
  },
  { describe, it, expect },
);

describe('openWebSerialPort', () => {
  it('errors the readable with PORT_DISCONNECTED when the device is lost', async () => {
    const [pa, pb] = createFakeWebSerialPair();
    const t = await openWebSerialPort(pa);
    await openWebSerialPort(pb);
    const reading = t.readable
      .getReader()
      .read()
      .catch((e) => e);
    pa.unplug();
    expect((await reading).code).toBe('PORT_DISCONNECTED');
  });

  it('changes rate by reopening the port, and keeps reading after it', async () => {
    const [pa, pb] = createFakeWebSerialPair();
    const a = await openWebSerialPort(pa, { baudRate: 115200 });
    const b = await openWebSerialPort(pb, { baudRate: 115200 });
    await a.setBaudRate(921600);
    expect(pa.openedAt).toBe(921600);
    expect(a.baudRate).toBe(921600);
    const w = b.writable.getWriter();
    await w.write(Uint8Array.of(4, 5, 6));
    const r = a.readable.getReader();
    expect(Array.from((await r.read()).value!)).toEqual([4, 5, 6]);
  });

  it('says PORT_OPEN_FAILED when the port cannot be opened', async () => {
    const [pa] = createFakeWebSerialPair();
    await openWebSerialPort(pa);
    const e = await openWebSerialPort(pa).catch((x) => x); // already open
    expect(e.code).toBe('PORT_OPEN_FAILED');
  });
});
