/**
 * A third-party transport: a `Transport` over a TCP socket (`node:net`) — the same contract a UART, BLE
 * or USB link implements. Here a board on a serial port is put on the network by a small bridge, and the
 * host reaches it over TCP: handshake, then a story.
 *   npm run tcp -w @tinypipe/examples
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connectBoards } from '@tinypipe/pipeline';
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { startBoards, tellStory } from './boards.js';

/** A `Transport` over a connected socket: bytes in both directions, close ends both, a reset errors. */
export function tcpTransport(socket: Socket): Transport {
  let closed = false;
  const readable = new ReadableStream<Uint8Array>({
    start(controller) {
      socket.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)));
      socket.on('end', () => {
        try {
          controller.close();
        } catch {
          // already errored
        }
      });
      socket.on('error', (cause) => {
        try {
          controller.error(
            new TinypipeError('PORT_DISCONNECTED', `TCP connection lost: ${cause.message}`, { cause }),
          );
        } catch {
          // already closed
        }
      });
    },
  });
  const writable = new WritableStream<Uint8Array>({
    write: (chunk) =>
      new Promise<void>((resolve, reject) =>
        socket.write(Buffer.from(chunk), (e) =>
          e ? reject(new TinypipeError('PORT_DISCONNECTED', 'TCP write failed', { cause: e })) : resolve(),
        ),
      ),
  });
  return {
    specificationVersion: 1,
    readable,
    writable,
    async close() {
      if (closed) return;
      closed = true;
      await new Promise<void>((resolve) => socket.end(() => resolve()));
    },
  };
}

/** Serves the serial port at `path` on a TCP port: one client at a time, bytes copied both ways. */
export async function bridge(path: string): Promise<{ server: Server; port: number }> {
  const serial = await openSerialPort(path);
  const toSerial = serial.writable.getWriter();
  let client: Socket | undefined;
  void (async () => {
    const reader = serial.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done || !value) return;
      client?.write(value);
    }
  })();
  const server = createServer((socket) => {
    client = socket;
    // the board may go away under the bridge: then the client's connection ends too
    socket.on('data', (chunk: Buffer) => toSerial.write(new Uint8Array(chunk)).catch(() => socket.destroy()));
    socket.on('error', () => {});
  });
  server.on('close', () => void serial.close());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

export async function overTcp(
  steps = 60,
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number[]> {
  const sim = await startBoards(1);
  const { server, port } = await bridge(sim.boards[0]!.path);
  try {
    // the board's transport is a TCP socket here: connectBoards opens it, shakes hands over it, connects
    const pipeline = await connectBoards({
      plan: sim.plan,
      manifests: sim.manifests,
      open: async () => {
        const socket = connect(port, '127.0.0.1');
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
        return tcpTransport(socket);
      },
    });
    try {
      return await tellStory(pipeline, sim.tokenizer, { temperature: 0, topp: 1, seed: 1 }, steps, write);
    } finally {
      await pipeline.close();
    }
  } finally {
    server.close();
    await sim.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await overTcp();
