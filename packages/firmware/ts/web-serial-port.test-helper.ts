/**
 * A Web-Serial-shaped port over the `serialport` npm package: the part of the browser's `SerialPort` that
 * esptool-js's `Transport` uses (getInfo, open/close, `readable`/`writable` web streams, setSignals,
 * setBaudRate), so Espressif's client runs unmodified in Node against a device path — here a virtual
 * board's PTY. Test scaffolding only: it knows nothing of the ESP protocol.
 */
import { SerialPort } from 'serialport';

export interface ModemLines {
  /** Asserted (true) or not, as Web Serial's dataTerminalReady / requestToSend. */
  dtr: boolean;
  rts: boolean;
}

export interface WebSerialPortOptions {
  /** Called with both lines after every setSignals (a PTY has no modem lines: this is where they go). */
  onSignals?: (lines: ModemLines) => void;
  /** Drive the device's own modem lines through serialport. Default true; false for a PTY (it has none). */
  modemLines?: boolean;
}

const done = (resolve: () => void, reject: (e: Error) => void) => (e?: Error | null) =>
  e ? reject(e) : resolve();

export class WebSerialPort {
  /** Bytes from the device while open; a fresh stream after the previous one was cancelled; null closed. */
  readable: ReadableStream<Uint8Array> | null = null;
  writable: WritableStream<Uint8Array> | null = null;
  private port: SerialPort | undefined;
  private controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  private readonly lines: ModemLines = { dtr: false, rts: false };

  constructor(
    readonly path: string,
    private readonly options: WebSerialPortOptions = {},
  ) {}

  /** No USB descriptor: a PTY (esptool-js then takes it for a UART bridge, not USB-Serial/JTAG). */
  getInfo(): { usbVendorId?: number; usbProductId?: number } {
    return {};
  }

  async open(options: { baudRate: number }): Promise<void> {
    if (this.port) throw new DOMException('The port is already open.', 'InvalidStateError');
    const port = new SerialPort({ path: this.path, baudRate: options.baudRate, autoOpen: false });
    await new Promise<void>((resolve, reject) => port.open(done(resolve, reject)));
    port.on('data', (chunk: Buffer) => this.controller?.enqueue(new Uint8Array(chunk)));
    port.on('close', () => this.endReadable());
    this.port = port;
    this.readable = this.freshReadable();
    this.writable = new WritableStream<Uint8Array>({
      write: (chunk) =>
        new Promise<void>((resolve, reject) => {
          port.write(Buffer.from(chunk), (e) => (e ? reject(e) : port.drain(done(resolve, reject))));
        }),
    });
  }

  private freshReadable(): ReadableStream<Uint8Array> {
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        this.controller = controller;
      },
      cancel: () => {
        // Web Serial hands out a new stream once a reader cancelled the old one; bytes in between are lost
        this.controller = undefined;
        this.readable = this.port ? this.freshReadable() : null;
      },
    });
  }

  /** The device went away or the port closed: a pending read ends (done). */
  private endReadable(): void {
    const controller = this.controller;
    this.controller = undefined;
    try {
      controller?.close();
    } catch {
      // already cancelled by its reader
    }
  }

  async close(): Promise<void> {
    const port = this.port;
    if (!port) return;
    this.port = undefined;
    this.readable = null;
    this.writable = null;
    this.endReadable();
    await new Promise<void>((resolve, reject) => port.close(done(resolve, reject)));
  }

  /** Web Serial semantics: a line left undefined keeps its state; both are remembered. */
  async setSignals(signals: { dataTerminalReady?: boolean; requestToSend?: boolean; break?: boolean }) {
    if (signals.dataTerminalReady !== undefined) this.lines.dtr = signals.dataTerminalReady;
    if (signals.requestToSend !== undefined) this.lines.rts = signals.requestToSend;
    this.options.onSignals?.({ ...this.lines });
    const port = this.port;
    if (port && this.options.modemLines !== false)
      await new Promise<void>((resolve, reject) =>
        port.set({ dtr: this.lines.dtr, rts: this.lines.rts }, done(resolve, reject)),
      );
  }

  /** Changes the line rate in place (esptool-js then keeps the port open instead of reopening it). */
  async setBaudRate(baudRate: number): Promise<void> {
    const port = this.port;
    if (!port) throw new DOMException('The port is closed.', 'InvalidStateError');
    await new Promise<void>((resolve, reject) => port.update({ baudRate }, done(resolve, reject)));
  }
}

/**
 * The auto-reset circuit of ESP32 dev boards (two transistors from DTR/RTS of the USB bridge): EN is held
 * low while RTS is asserted without DTR, GPIO0 while DTR is asserted without RTS. When EN is released the
 * chip starts: in the ROM loader if GPIO0 is low then, else from flash.
 */
export function devkitAutoReset(pulse: (mode: 'boot' | 'download') => void): (lines: ModemLines) => void {
  let enLow = false;
  return ({ dtr, rts }) => {
    const holdEn = rts && !dtr;
    if (enLow && !holdEn) pulse(dtr && !rts ? 'download' : 'boot');
    enLow = holdEn;
  };
}
