/**
 * The posix board speaking the wire protocol on a real PTY to the TypeScript host (Node serialport +
 * ReliableLink): 10,000 round trips bit-exact through fault injection, CALIBRATE (with and without an
 * image), refusals of the wrong model, layers and protocol version on both ends, and a board killed
 * mid-stream failing the link without a hang.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildImage,
  hashActivations,
  QuantEngine,
  quantize,
  readCheckpoint,
  splitSelections,
} from '@tinypipe/core';
import { calibrateBoard } from '@tinypipe/pipeline';
import {
  decodeHello,
  decodeMessage,
  encodeFrame,
  encodeHello,
  encodeMessage,
  FrameDecoder,
  FrameType,
  type Message,
} from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { startWithHashes } from './protocol.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

describe('TS host ↔ C board over a real PTY', () => {
  const checkpoint = readCheckpoint(
    new Uint8Array(readFileSync(fileURLToPath(new URL('../../../models/stories260K.bin', import.meta.url)))),
  );
  const qm = quantize(checkpoint, { weights: 'q8' });
  const [first] = splitSelections(qm.config, [2, 3], 1); // layers [0, 2) + the embedding
  const image = join(tmp, 'pty-stage0.img');
  writeFileSync(image, buildImage(qm, first!));
  const fingerprint = qm.fingerprint;
  const boards: PtyBoard[] = [];
  afterAll(async () => {
    await Promise.all(boards.map((b) => b.kill('SIGKILL')));
  });

  it('handshakes, then 10,000 token → activation round trips bit-exact with the TS engine, through the board’s fault injection', async () => {
    // the reference first: computing it blocks the event loop, which would starve the link's heartbeat
    const N = 10_000;
    const seqLen = qm.config.seqLen;
    const token = (i: number) => (i * 7919 + 13) % qm.config.vocabSize;
    const reference = QuantEngine.fromModel(qm, { layerHashes: true });
    const expected: number[][] = [];
    for (let i = 0; i < N; i++) {
      reference.forward(token(i), i % seqLen);
      expected.push([...reference.lastLayerHashes()].slice(0, 2));
    }

    const board = await spawnPtyBoard(image, { board: 0, ber: 2e-5, drop: 2e-5, seed: 3 });
    boards.push(board);
    const port = await openSerialPort(board.path, { baudRate: 921600 });
    const link = await ReliableLink.connect(port, { expect: { fingerprint, layers: [0, 2], board: 0 } });
    expect(link.peer).toMatchObject({ role: 'board', layers: [0, 2], vocab: [0, 0], streams: 4 });
    expect(link.peer?.caps.embedding).toBe(true);

    await link.send(startWithHashes);
    const reader = link.messages.getReader();
    const receiving = (async () => {
      const got: number[][] = [];
      let mismatches = 0;
      while (got.length < N) {
        const hashes = decodeMessage((await reader.read()).value!);
        const act = decodeMessage((await reader.read()).value!) as Extract<Message, { kind: 'activation' }>;
        if (hashes.kind !== 'hashes' || act.kind !== 'activation')
          throw new Error(`unexpected ${hashes.kind}/${act.kind}`);
        const i = got.length;
        if (act.pos !== i % seqLen || hashActivations(act.x) !== hashes.hashes[1]) mismatches++;
        got.push([...hashes.hashes]);
      }
      return { got, mismatches };
    })();
    for (let i = 0; i < N; i++)
      void link.send(encodeMessage({ kind: 'token', stream: 0, pos: i % seqLen, token: token(i) }));
    const { got, mismatches } = await receiving;
    expect(mismatches).toBe(0);
    expect(got).toEqual(expected);
    const stats = link.stats();
    expect(stats.retransmits + stats.crcFailures + stats.resyncs).toBeGreaterThan(0); // the faults were real
    reader.releaseLock();
    await link.close();
    await board.kill();
  }, 300_000);

  it('CALIBRATE (ASan + UBSan build): the whole image read once (its checksum), both kernels measured, then the board computes as before', async () => {
    const { board: program } = buildPosixBoard({ sanitize: true });
    const board = await spawnPtyBoard(image, { board: 0, program });
    boards.push(board);
    const link = await ReliableLink.connect(await openSerialPort(board.path), { timeoutMs: 5000 });
    const c = await calibrateBoard(link, { budgetMs: 30, roundTrips: 2 });
    const bytes = readFileSync(image);
    const padded = Buffer.concat([bytes, Buffer.alloc((4 - (bytes.length % 4)) % 4)]);
    let sum = 0;
    for (let i = 0; i < padded.length; i += 4) sum = (sum + padded.readUInt32LE(i)) >>> 0;
    expect(c.answer).toMatchObject({
      image: true,
      host: true,
      imageBytes: bytes.length,
      readBytes: bytes.length,
    });
    expect(c.answer.readSum).toBe(sum);
    expect(c.answer.q4Reps).toBeGreaterThan(0);
    expect(c.answer.q8Reps).toBeGreaterThan(0);
    expect(c.firstWeights?.bytes).toBe(32768);
    // the matrix borrowed the activation buffer: a forward after it is still the TS engine's
    const reader = link.messages.getReader();
    await link.send(startWithHashes);
    await link.send(encodeMessage({ kind: 'token', stream: 0, pos: 0, token: 7 }));
    const hashes = decodeMessage((await reader.read()).value!);
    const reference = QuantEngine.fromModel(qm, { layerHashes: true });
    reference.forward(7, 0);
    expect(hashes).toMatchObject({
      kind: 'hashes',
      hashes: Uint32Array.from([...reference.lastLayerHashes()].slice(0, 2)),
    });
    reader.releaseLock();
    await link.close();
    expect(board.log()).not.toMatch(/AddressSanitizer|runtime error/);
  }, 120_000);

  it('CALIBRATE on a board whose image was refused: no read figures, the kernels still measured', async () => {
    const junk = join(tmp, 'junk.img');
    writeFileSync(junk, Buffer.alloc(4096, 0x5a));
    const board = await spawnPtyBoard(junk);
    boards.push(board);
    const link = await ReliableLink.connect(await openSerialPort(board.path), { timeoutMs: 5000 });
    const c = await calibrateBoard(link, { budgetMs: 20, roundTrips: 1 });
    expect(c.answer).toMatchObject({ image: false, imageBytes: 0, readBytes: 0, firstBytes: 0 });
    expect(c.flashMBps).toBeUndefined();
    expect(c.firstWeights).toBeUndefined();
    expect(c.macsPerSecond.q8).toBeGreaterThan(0);
    await link.close();
  }, 60_000);

  it('refuses the wrong model fingerprint and layer range on both ends', async () => {
    const board = await spawnPtyBoard(image, { board: 0 });
    boards.push(board);
    const wrong = new Uint8Array(32).fill(0x5a);
    const e1 = await ReliableLink.connect(await openSerialPort(board.path), {
      expect: { fingerprint: wrong },
    }).catch((e) => e);
    expect(e1.code).toBe('WRONG_MODEL');
    expect(e1.message).toContain('5a5a5a5a');
    const e2 = await ReliableLink.connect(await openSerialPort(board.path), {
      expect: { layers: [2, 5] },
    }).catch((e) => e);
    expect(e2.code).toBe('WRONG_MODEL');
    expect(e2.message).toContain('the board holds [0, 2)');
    await new Promise((r) => setTimeout(r, 100));
    expect(board.log()).toMatch(
      /WRONG_MODEL: the host expects model 5a5a5a5a5a5a5a5a…, this board's image holds/,
    );
    expect(board.log()).toMatch(/WRONG_MODEL: the host expects layers \[2, 5\), this board holds \[0, 2\)/);
    await board.kill();
  }, 60_000);

  it('refuses another protocol version on both ends (a protocol-1 HELLO, and a version-2 frame)', async () => {
    const board = await spawnPtyBoard(image);
    boards.push(board);
    const port = await openSerialPort(board.path);
    const acks: number[] = [];
    const ackBytes: Uint8Array[] = [];
    const decoder = new FrameDecoder((f) => {
      if (f.type !== FrameType.HELLO_ACK) return;
      acks.push(f.payload[0]!);
      ackBytes.push(f.payload.slice());
    });
    const reader = port.readable.getReader();
    void (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done || !value) return;
        decoder.push(value);
      }
    })();
    const writer = port.writable.getWriter();
    // a protocol-1 host: its 60-byte HELLO (the layout before the build id)
    const hello = encodeHello({
      protocol: 1,
      role: 'host',
      maxPayload: 4096,
      streams: 0,
      caps: { embedding: false, classifier: false, sampler: false },
      baud: 0,
    }).subarray(0, 60);
    await writer.write(
      encodeFrame({ type: FrameType.HELLO, session: 9, seq: 0, ack: 0, sack: 0, payload: hello }),
    );
    const v2 = encodeFrame({
      type: FrameType.PING,
      session: 9,
      seq: 0,
      ack: 0,
      sack: 0,
      payload: new Uint8Array(0),
    });
    // the same frame re-stamped as version 2 with a valid CRC
    const { cobsDecode, cobsEncode, crc32c } = await import('@tinypipe/protocol');
    const body = cobsDecode(v2.subarray(1, -1));
    body[0] = 2;
    new DataView(body.buffer, body.byteOffset).setUint32(
      body.length - 4,
      crc32c(body.subarray(0, body.length - 4)),
      true,
    );
    await writer.write(Uint8Array.of(0, ...cobsEncode(body), 0));
    for (let t = 0; t < 50 && acks.length < 2; t++) await new Promise((r) => setTimeout(r, 20));
    expect(acks).toEqual([1, 1]);
    // the refusal of the 60-byte HELLO is in the layout that host decodes, and names protocol 2
    expect(ackBytes[0]!.length).toBe(1 + 60);
    expect(decodeHello(ackBytes[0]!.subarray(1))).toMatchObject({ protocol: 2, role: 'board' });
    expect(ackBytes[1]!.length).toBe(1 + 68);
    expect(board.log()).toMatch(/PROTOCOL_MISMATCH: the host speaks protocol 1 \(60-byte HELLO\)/);
    expect(board.log()).toMatch(/PROTOCOL_MISMATCH: a host sent a frame of another protocol version/);
    writer.releaseLock();
    reader.releaseLock();
    await port.close();
    await board.kill();
  }, 60_000);

  it('a board killed mid-stream gives PORT_DISCONNECTED (or PEER_RESET / TIMEOUT), never a hang', async () => {
    const board = await spawnPtyBoard(image);
    boards.push(board);
    const link = await ReliableLink.connect(await openSerialPort(board.path));
    await link.send(
      encodeMessage({
        kind: 'start',
        stream: 0,
        hashes: false,
        sample: false,
        temperature: 0,
        topp: 1,
        seed: 0n,
        sampleFrom: 0,
      }),
    );
    const reader = link.messages.getReader();
    const failure = (async () => {
      for (;;) await reader.read();
    })().catch((e) => e);
    for (let i = 0; i < 50; i++)
      void link.send(encodeMessage({ kind: 'token', stream: 0, pos: i, token: 1 })).catch(() => {});
    await board.kill('SIGKILL');
    const e = await Promise.race([failure, new Promise((r) => setTimeout(() => r('hang'), 10_000))]);
    expect(['PORT_DISCONNECTED', 'PEER_RESET', 'TIMEOUT']).toContain((e as { code?: string }).code ?? e);
  }, 60_000);
});
