/** An in-memory pair of connected transports: what one writes, the other reads. For tests and examples. */
import type { Transport } from './types.js';

/**
 * A `Transport` over a readable/writable pair, closing the writable once (for adapters whose streams
 * already exist: in-memory pairs, test lines, a Web Serial port's streams).
 */
export function transportFromStreams(
  readable: ReadableStream<Uint8Array>,
  writable: WritableStream<Uint8Array>,
): Transport {
  let closed = false;
  return {
    specificationVersion: 1,
    readable,
    writable,
    async close() {
      if (closed) return;
      closed = true;
      await writable.close().catch(() => {}); // already closed or errored: nothing left to flush
    },
  };
}

/** One direction: buffers up to 1 MiB unread, like a serial driver's buffer, so writes do not wait for reads. */
function oneWay(): TransformStream<Uint8Array, Uint8Array> {
  return new TransformStream<Uint8Array, Uint8Array>(
    {
      transform(chunk, controller) {
        controller.enqueue(chunk.slice()); // the writer may reuse its buffer
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
    new ByteLengthQueuingStrategy({ highWaterMark: 1 << 20 }),
  );
}

export function createTransportPair(): [Transport, Transport] {
  const ab = oneWay();
  const ba = oneWay();
  return [transportFromStreams(ba.readable, ab.writable), transportFromStreams(ab.readable, ba.writable)];
}
