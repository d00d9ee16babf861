import type { HelloInfo } from '../hello/hello.js';

/**
 * The two contracts third parties implement to bring their own way to reach a board (TCP, BLE, USB CDC…),
 * versioned like provider specs so both sides can evolve (docs/protocol.md).
 */

/** A byte-level duplex connection to a device. */
export interface Transport {
  readonly specificationVersion: 1;
  /** Bytes from the device. Ends when the connection closes; errors with PORT_DISCONNECTED when lost. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the device. */
  readonly writable: WritableStream<Uint8Array>;
  /** Closes both directions; idempotent. */
  close(): Promise<void>;
  /** The line rate in baud, for transports that have one (a UART); undefined otherwise. */
  readonly baudRate?: number | undefined;
  /**
   * Changes the line rate (docs/protocol.md §4.3). Only transports that can do so implement it; a link
   * proposes a baud switch only when it is there.
   */
  setBaudRate?(baud: number): Promise<void>;
}

/** Counters every link keeps. */
export interface LinkStats {
  framesSent: number;
  framesReceived: number;
  bytesSent: number;
  bytesReceived: number;
  retransmits: number;
  crcFailures: number;
  /** Blocks dropped by the frame decoder for any reason (garbage, cut frames, CRC). */
  resyncs: number;
  duplicates: number;
  /** Smoothed round-trip time in milliseconds (0 before the first sample). */
  rttMs: number;
}

/** A message-level, reliable, ordered connection (no loss, no duplicates, no corruption). */
export interface Link {
  readonly specificationVersion: 1;
  /** What the other end said about itself in the handshake (docs/protocol.md §4.1), once it is done. */
  readonly peer?: HelloInfo | undefined;
  /** Resolves once the peer acknowledged the message; rejects with LINK_DOWN / PAYLOAD_TOO_LARGE. */
  send(message: Uint8Array): Promise<void>;
  /** Messages from the peer, in order, each exactly once. */
  readonly messages: ReadableStream<Uint8Array>;
  stats(): LinkStats;
  close(): Promise<void>;
}
