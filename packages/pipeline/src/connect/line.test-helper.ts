/** Test helper: a serial line to a memory board behind a real handshake (`ReliableLink.accept` on its side). */
import { createTransportPair, type Link, type Transport } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import type { MemoryBoard } from '../testing/memory-board.js';

/** Pipes one link's messages into another's `send` until either ends. */
async function relay(from: Link, to: Link): Promise<void> {
  const reader = from.messages.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      await to.send(value);
    }
  } catch {
    // either side went away
  } finally {
    await to.close().catch(() => {});
  }
}

/**
 * A serial line to `board`: the host's end of a transport pair (what `open` returns) and, on the other,
 * the board's side of the handshake relaying to the memory board. `closed` tells when the host closed it.
 */
export function line(board: MemoryBoard): { transport: Transport; closed: Promise<void> } {
  const [host, device] = createTransportPair();
  void ReliableLink.accept(device, board.hello).then(
    (serial) => {
      const inside = board.connect();
      void relay(serial, inside);
      void relay(inside, serial);
    },
    () => {},
  );
  let closedNow!: () => void;
  const closed = new Promise<void>((resolve) => {
    closedNow = resolve;
  });
  return {
    transport: {
      ...host,
      close: async () => {
        closedNow();
        await host.close();
      },
    },
    closed,
  };
}
