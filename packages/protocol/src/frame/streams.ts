/**
 * The frame layer as WHATWG TransformStreams (Node ≥ 18 and browsers): frames → bytes for the line,
 * bytes from the line → frames. The decoder never throws on line data: damaged or partial blocks are
 * dropped and counted, and decoding resumes at the next 0x00 (docs/protocol.md §2).
 */
import { type DropReason, decodeBlock, encodeFrame, type Frame, MAX_ENCODED } from './frame.js';

/** Counters of a decoder: every byte and every dropped block is accounted for. */
export interface DecoderStats {
  bytesIn: number;
  framesIn: number;
  /** Blocks dropped, by reason (a garbage burst or a cut frame shows up here). */
  dropped: Record<DropReason, number>;
}

export function newDecoderStats(): DecoderStats {
  return {
    bytesIn: 0,
    framesIn: 0,
    dropped: { cobs: 0, short: 0, length: 0, crc: 0, version: 0, type: 0, oversize: 0 },
  };
}

/** Frames in, wire bytes out (one chunk per frame). */
export function createFrameEncoder(): TransformStream<Frame, Uint8Array> {
  return new TransformStream({
    transform(frame, controller) {
      controller.enqueue(encodeFrame(frame));
    },
  });
}

/**
 * A push decoder (the stream wraps it; the firmware has the same state machine in C): feed it any
 * chunking of the line's bytes, it calls `onFrame` for every intact frame.
 */
export class FrameDecoder {
  readonly stats: DecoderStats;
  readonly #buffer = new Uint8Array(MAX_ENCODED + 1);
  #length = 0;
  #overflow = false;
  readonly #onFrame: (frame: Frame) => void;
  readonly #onDrop: ((reason: DropReason) => void) | undefined;

  constructor(
    onFrame: (frame: Frame) => void,
    stats: DecoderStats = newDecoderStats(),
    onDrop?: (reason: DropReason) => void,
  ) {
    this.#onFrame = onFrame;
    this.#onDrop = onDrop;
    this.stats = stats;
  }

  #drop(reason: DropReason): void {
    this.stats.dropped[reason]++;
    this.#onDrop?.(reason);
  }

  push(bytes: Uint8Array): void {
    this.stats.bytesIn += bytes.length;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      if (b !== 0) {
        if (this.#length < this.#buffer.length) this.#buffer[this.#length++] = b;
        else this.#overflow = true;
        continue;
      }
      // a delimiter: whatever was collected is one block
      if (this.#overflow) this.#drop('oversize');
      else if (this.#length > 0) {
        const result = decodeBlock(this.#buffer.subarray(0, this.#length));
        if (typeof result === 'string') this.#drop(result);
        else {
          this.stats.framesIn++;
          this.#onFrame(result);
        }
      }
      this.#length = 0;
      this.#overflow = false;
    }
  }
}

/** Wire bytes in, frames out. `stats` is updated live. */
export function createFrameDecoder(stats: DecoderStats = newDecoderStats()): TransformStream<
  Uint8Array,
  Frame
> & {
  stats: DecoderStats;
} {
  let decoder: FrameDecoder | undefined;
  const stream = new TransformStream<Uint8Array, Frame>({
    start(controller) {
      decoder = new FrameDecoder((f) => controller.enqueue(f), stats);
    },
    transform(chunk) {
      decoder!.push(chunk);
    },
  });
  return Object.assign(stream, { stats });
}
