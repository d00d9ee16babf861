/**
 * `openSerialPort`: a `Transport` over a serial device in Node, on the `serialport` package (v13, native
 * bindings with prebuilt binaries). Unplugging the device, or the other end of a PTY going away, errors
 * the readable with PORT_DISCONNECTED; `close()` ends it cleanly. Opening maps the OS's failures to
 * PORT_NOT_FOUND, PORT_BUSY and PORT_OPEN_FAILED with what to do about each.
 *
 * Why a watchdog on the device node: `serialport`'s reads notice a vanished device only if a read fails
 * with one of the errors it treats as a disconnect; a PTY whose other end closed reads as end-of-file,
 * which it retries quietly — a reader would wait forever (reproduced with socat here). On Unix this
 * adapter reads the descriptor itself and takes end-of-file as the hang-up it is; the watchdog remains for
 * a device that goes away without a read to notice (a device loses its node: /dev/ttyACM0 on unplug,
 * /dev/pts/N when the PTY's master closes), checked every 200 ms.
 *
 * Why writes go to the descriptor here (`writeAll`) on Unix, not through `serialport`: flashing simulated
 * boards back to back, in 5 of 6 bench runs (14 demos each) one flash hung for good inside a write whose
 * callback never came (the answer's timer long fired, no thread busy, the board idle with nothing unread).
 * After a write that does not fit (EAGAIN) `serialport` waits for its poller to report the descriptor
 * writable — the one wait on that path without a timer. A retry on a timer (1 ms, doubling to 16 ms) cannot
 * miss the moment the line has room again, and costs nothing while the line keeps up; with it, two bench
 * runs (28 demos) never hung.
 *
 * Why reads and writes are synchronous calls on the non-blocking descriptor (Unix): `serialport` reads and
 * writes through libuv's thread pool — every frame paid a hand-off to a pool thread and back. Profiled in
 * `tinypipe demo` (stories260K at host speed) the host spent 0.9–1.5 ms of CPU per token, a fifth to a
 * quarter of it in those hand-offs; a read or write on a descriptor that never blocks is one system call
 * (a 24-byte echo over a PTY: 225–235 µs round trip, 520–555 µs through `serialport`). Reads wait for
 * the descriptor with `serialport`'s own poller (libuv's, in the event loop), which `serialport` itself
 * uses after EAGAIN; `serialport` still opens, configures, locks and closes the port.
 */
import { existsSync, readSync, writeSync } from 'node:fs';
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import type { SerialPort } from 'serialport';
import { loadSerialPort } from './load.js';

export interface OpenSerialPortOptions {
  /** Line rate. Default 115200 (the ESP32-S3 ROM's and most bridges' power-on rate). */
  baudRate?: number;
}

export interface SerialTransport extends Transport {
  readonly path: string;
  readonly baudRate: number;
  setBaudRate(baud: number): Promise<void>;
  /** Drives the modem lines (DTR, RTS): what resets an ESP32 into its bootloader. A PTY ignores them. */
  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void>;
}

function openError(path: string, cause: unknown): TinypipeError {
  const text = String((cause as Error)?.message ?? cause);
  if (/ENOENT|No such file|cannot find|File not found/i.test(text))
    return new TinypipeError(
      'PORT_NOT_FOUND',
      `no serial device at ${path}: check the cable and the name (tinypipe ports lists them)`,
      {
        cause,
        details: { path },
      },
    );
  if (/lock|EBUSY|busy|Access denied/i.test(text) && !/EACCES|Permission denied/i.test(text))
    return new TinypipeError(
      'PORT_BUSY',
      `${path} is open in another program (a serial monitor, another tinypipe): close it and retry`,
      {
        cause,
        details: { path },
      },
    );
  return new TinypipeError(
    'PORT_OPEN_FAILED',
    `cannot open ${path}: ${text}${/EACCES|Permission denied/i.test(text) ? ' (on Linux, add yourself to the dialout group)' : ''}`,
    { cause, details: { path } },
  );
}

const RETRYABLE = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

/** Writes all of `bytes` to the non-blocking descriptor `fd`, retrying on a timer while the line is full. */
async function writeAll(fd: number, bytes: Uint8Array, open: () => boolean): Promise<void> {
  let at = 0;
  let wait = 1;
  while (at < bytes.length) {
    if (!open()) throw new Error('the port closed during a write');
    try {
      at += writeSync(fd, bytes, at, bytes.length - at);
      wait = 1;
    } catch (e) {
      if (!RETRYABLE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(16, wait * 2);
    }
  }
}

/** What `serialport`'s Unix bindings hold once open: the descriptor and a libuv poller on it. */
interface UnixBinding {
  fd: number | null;
  isOpen: boolean;
  poller: { once(event: 'readable', callback: (error: Error | null) => void): unknown };
}

function unixBinding(port: SerialPort): UnixBinding | undefined {
  const b = port.port as Partial<UnixBinding> | undefined;
  return process.platform !== 'win32' && typeof b?.fd === 'number' && b.poller
    ? (b as UnixBinding)
    : undefined;
}

/**
 * Reads the non-blocking descriptor whenever the poller says it is readable, handing each chunk to
 * `deliver`; resolves when `stopped()` (the port is closing), rejects when the line fails or hangs up
 * (a read of 0 bytes: the other end closed; a serial line with nothing to read says EAGAIN instead).
 */
async function readLoop(
  binding: UnixBinding,
  deliver: (chunk: Uint8Array) => void,
  stopped: () => boolean,
): Promise<void> {
  const buffer = Buffer.allocUnsafe(65536);
  for (;;) {
    if (stopped() || !binding.isOpen || binding.fd === null) return;
    let n: number;
    try {
      n = readSync(binding.fd, buffer, 0, buffer.length, null);
    } catch (e) {
      if (!RETRYABLE.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      const canceled = await new Promise<boolean>((resolve) =>
        binding.poller.once('readable', (error) => resolve(error !== null)),
      );
      if (canceled) {
        if (stopped()) return;
        throw new Error('the poller stopped');
      }
      continue;
    }
    if (n === 0) throw new Error('the other end hung up');
    deliver(new Uint8Array(buffer.subarray(0, n))); // a copy: the buffer is reused
  }
}

/** Opens `path` (e.g. /dev/ttyACM0, /dev/pts/3, COM4) as a byte `Transport`. */
export async function openSerialPort(
  path: string,
  options: OpenSerialPortOptions = {},
): Promise<SerialTransport> {
  const baudRate = options.baudRate ?? 115200;
  if (!Number.isInteger(baudRate) || baudRate <= 0)
    throw new TinypipeError('INVALID_ARGUMENT', `baud rate ${baudRate} is not a positive integer`);
  const { SerialPort } = await loadSerialPort();
  const port = new SerialPort({ path, baudRate, autoOpen: false, lock: true });
  await new Promise<void>((resolve, reject) =>
    port.open((e) => (e ? reject(openError(path, e)) : resolve())),
  );

  let closing = false;
  let closed = false;
  let rate = baudRate;
  let fail: (e: TinypipeError) => void = () => {};
  const pendingWrites = new Set<(e?: TinypipeError) => void>();
  const dropWrites = (e: TinypipeError) => {
    for (const settle of [...pendingWrites]) settle(e);
  };
  const lost = (cause?: unknown) =>
    new TinypipeError('PORT_DISCONNECTED', `${path} went away (unplugged, reset, or its other end closed)`, {
      cause,
      details: { path },
    });

  /** The line is gone (noticed by the watchdog or a read): every waiting write and the reader fail. */
  const goneAway = (cause?: unknown) => {
    closed = true;
    dropWrites(lost(cause));
    fail(lost(cause));
    port.close(() => {});
  };
  const binding = unixBinding(port);

  const watchdog =
    process.platform !== 'win32' && path.startsWith('/dev/')
      ? setInterval(() => {
          if (!closed && !existsSync(path)) goneAway();
        }, 200)
      : undefined;
  watchdog?.unref();

  // once the readable is closed, errored or cancelled, bytes serialport still had buffered have nowhere to
  // go (enqueueing them would throw from inside serialport's event: an unhandled error)
  let ended = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      fail = (e) => {
        if (ended) return;
        ended = true;
        controller.error(e);
      };
      port.on('close', (err?: Error & { disconnected?: boolean }) => {
        closed = true;
        dropWrites(lost(err));
        clearInterval(watchdog);
        if (closing && !err) {
          if (!ended) controller.close();
          ended = true;
        } else fail(lost(err));
      });
      port.on('error', (err) => fail(lost(err)));
      if (binding)
        readLoop(
          binding,
          (chunk) => {
            if (!ended) controller.enqueue(chunk);
          },
          () => closing || closed || ended,
        ).catch((e) => {
          if (!closing && !closed) goneAway(e);
        });
      else
        port.on('data', (chunk: Buffer) => {
          if (!ended) controller.enqueue(new Uint8Array(chunk));
        });
    },
    cancel() {
      ended = true;
      closing = true;
      if (!closed) port.close(() => {});
    },
  });

  const writable = new WritableStream<Uint8Array>({
    write(chunk) {
      if (closed) throw lost();
      return new Promise<void>((resolve, reject) => {
        // a write to a vanished device may never call back: settle it when the port is lost or closed
        const settle = (e?: TinypipeError) => {
          pendingWrites.delete(settle);
          if (e) reject(e);
          else resolve();
        };
        pendingWrites.add(settle);
        if (binding?.fd != null)
          writeAll(binding.fd, Buffer.from(chunk), () => port.isOpen && !closed).then(
            () => settle(),
            (e) => settle(lost(e)),
          );
        // elsewhere serialport writes (it keeps a reference until written: a copy the caller cannot change)
        else port.write(Buffer.from(chunk), (e) => settle(e ? lost(e) : undefined));
      });
    },
  });

  return {
    specificationVersion: 1,
    path,
    readable,
    writable,
    get baudRate() {
      return rate;
    },
    async setBaudRate(baud: number) {
      await new Promise<void>((resolve, reject) =>
        port.update({ baudRate: baud }, (e) =>
          e
            ? reject(
                new TinypipeError('PORT_OPEN_FAILED', `${path} refused ${baud} baud: ${e.message}`, {
                  cause: e,
                }),
              )
            : resolve(),
        ),
      );
      rate = baud;
    },
    async setSignals(signals: { dtr?: boolean; rts?: boolean }) {
      await new Promise<void>((resolve, reject) =>
        port.set(signals, (e) => (e ? reject(lost(e)) : resolve())),
      );
    },
    async close() {
      clearInterval(watchdog);
      if (closing || closed) return;
      closing = true;
      await new Promise<void>((resolve) => port.close(() => resolve()));
    },
  };
}
