/**
 * Two fake Web Serial ports joined back to back (what one writes the other reads), implementing the
 * part of `SerialPort` that `openWebSerialPort` uses — to test browser code in Node. `unplug()` makes a
 * port behave like a lost device (its readable errors, then both streams are null).
 */
import { createTransportPair, type Transport } from '@tinypipe/protocol';
import type { WebSerialPortLike } from '../web/web-serial.js';

export interface FakeWebSerialPort extends WebSerialPortLike {
  /** The rate it was last opened at. */
  readonly openedAt: number | undefined;
  unplug(): void;
}

function fakePort(end: Transport): FakeWebSerialPort {
  let open = false;
  let gone = false;
  let rate: number | undefined;
  let readable: ReadableStream<Uint8Array> | null = null;
  let writable: WritableStream<Uint8Array> | null = null;
  let current: ReadableStreamDefaultController<Uint8Array> | undefined;
  const pending: Uint8Array[] = []; // bytes that arrived while the port was closed (a UART's FIFO)
  const sink = end.writable.getWriter();
  // one pump for the life of the pair: whichever readable is current gets the bytes
  void (async () => {
    const source = end.readable.getReader();
    for (;;) {
      const { value, done } = await source.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      if (current) current.enqueue(value);
      else pending.push(value);
    }
  })();
  return {
    get openedAt() {
      return rate;
    },
    get readable() {
      return gone ? null : readable;
    },
    get writable() {
      return gone ? null : writable;
    },
    async open(options) {
      if (open) throw new Error('InvalidStateError: the port is already open');
      if (gone) throw new Error('NetworkError: the device has been lost');
      open = true;
      rate = options.baudRate;
      readable = new ReadableStream<Uint8Array>({
        start(controller) {
          current = controller;
          for (const chunk of pending.splice(0)) controller.enqueue(chunk);
        },
        cancel() {
          current = undefined;
        },
      });
      writable = new WritableStream<Uint8Array>({ write: (chunk) => sink.write(chunk) });
    },
    async close() {
      open = false;
      current = undefined;
      readable = null;
      writable = null;
    },
    unplug() {
      gone = true;
      current?.error(new Error('NetworkError: the device has been lost'));
      current = undefined;
    },
  };
}

export function createFakeWebSerialPair(): [FakeWebSerialPort, FakeWebSerialPort] {
  const [a, b] = createTransportPair();
  return [fakePort(a), fakePort(b)];
}
