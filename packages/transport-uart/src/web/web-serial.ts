/**
 * `openWebSerialPort`: a `Transport` over a browser Web Serial port (`navigator.serial.requestPort()`),
 * with no Node imports. Web Serial specifics handled here: a non-fatal read error (framing, parity,
 * overrun) replaces `port.readable` with a new stream, so reading continues on it; a lost device leaves
 * `port.readable` null → PORT_DISCONNECTED; there is no in-place rate change, so `setBaudRate` closes and
 * reopens the port at the new rate.
 */
import { TinypipeError, type Transport } from '@tinypipe/protocol';

/** The part of the Web Serial `SerialPort` this adapter uses (so tests can pass a fake). */
export interface WebSerialPortLike {
  open(options: { baudRate: number; bufferSize?: number }): Promise<void>;
  close(): Promise<void>;
  readonly readable: ReadableStream<Uint8Array> | null;
  readonly writable: WritableStream<Uint8Array> | null;
  getInfo?(): { usbVendorId?: number; usbProductId?: number };
}

export interface WebSerialTransport extends Transport {
  readonly baudRate: number;
  setBaudRate(baud: number): Promise<void>;
}

export async function openWebSerialPort(
  port: WebSerialPortLike,
  options: { baudRate?: number; bufferSize?: number } = {},
): Promise<WebSerialTransport> {
  let rate = options.baudRate ?? 115200;
  const bufferSize = options.bufferSize ?? 16384; // a few frames; the default 255 B overruns at 2 Mbaud
  try {
    await port.open({ baudRate: rate, bufferSize });
  } catch (cause) {
    throw new TinypipeError(
      'PORT_OPEN_FAILED',
      `cannot open the serial port: ${String((cause as Error)?.message ?? cause)}`,
      {
        cause,
      },
    );
  }
  let closing = false;
  let reopening: Promise<void> | undefined;
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  const lost = (cause?: unknown) =>
    new TinypipeError('PORT_DISCONNECTED', 'the serial device went away (unplugged or reset)', { cause });

  const readable = new ReadableStream<Uint8Array>({
    async start(controller) {
      // runs for the life of the port; start() returning early lets the consumer read meanwhile
      void (async () => {
        let lastError: unknown;
        while (!closing) {
          if (reopening) {
            await reopening.catch(() => {});
            reopening = undefined;
          }
          const source = port.readable;
          if (!source) {
            controller.error(lost(lastError));
            return;
          }
          reader = source.getReader();
          try {
            for (;;) {
              const { value, done } = await reader.read();
              if (done) break;
              controller.enqueue(value);
            }
          } catch (e) {
            lastError = e; // non-fatal errors come with a fresh port.readable; fatal ones leave it null
          } finally {
            reader.releaseLock();
            reader = undefined;
          }
          if (!reopening && !closing && port.readable === source) {
            controller.error(lost(lastError)); // the stream ended without a replacement: the port is gone
            return;
          }
        }
        try {
          controller.close();
        } catch {
          // already errored
        }
      })();
    },
  });

  const writable = new WritableStream<Uint8Array>({
    async write(chunk) {
      if (reopening) await reopening;
      const sink = port.writable;
      if (!sink) throw lost();
      const writer = sink.getWriter();
      try {
        await writer.write(chunk.slice()); // the caller may reuse its buffer
      } catch (e) {
        throw lost(e);
      } finally {
        writer.releaseLock();
      }
    },
  });

  return {
    specificationVersion: 1,
    readable,
    writable,
    get baudRate() {
      return rate;
    },
    async setBaudRate(baud: number) {
      reopening = (async () => {
        await reader?.cancel();
        await port.close();
        await port.open({ baudRate: baud, bufferSize });
        rate = baud;
      })();
      await reopening;
    },
    async close() {
      if (closing) return;
      closing = true;
      await reader?.cancel().catch(() => {});
      await port.close().catch(() => {});
    },
  };
}
