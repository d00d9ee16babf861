/**
 * The wire protocol in C (src/link/): the shared vectors, a fuzzed receiver under ASan/UBSan, and the
 * posix board speaking it on a real PTY to the TypeScript host (Node serialport + ReliableLink).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildImage,
  hashActivations,
  QuantEngine,
  quantize,
  readCheckpoint,
  SliceSampling,
  splitSelections,
  TOP_BUCKET,
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
  lebBytes,
  type Message,
} from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

const vectors = JSON.parse(
  readFileSync(fileURLToPath(new URL('../../../docs/vectors/protocol.json', import.meta.url)), 'utf8'),
) as {
  cobs: { decoded: string; encoded: string }[];
  frames: {
    type: number;
    session: number;
    seq: number;
    ack: number;
    sack: number;
    payload: string;
    wire: string;
  }[];
  corrupt: { name: string; block: string; reason: string }[];
  hello: { info: Record<string, unknown>; bytes: string }[];
  helloLayout: { protocol: number; bytes: number; offsets: Record<string, number> };
  messages: { message: Record<string, number | string | number[] | boolean>; bytes: string }[];
};
const or = (h: string) => h || '-';
/** START stream 0 with per-layer HASHES after each forward, greedy. */
const startWithHashes = encodeMessage({
  kind: 'start',
  stream: 0,
  hashes: true,
  sample: false,
  temperature: 0,
  topp: 1,
  seed: 0n,
  sampleFrom: 0,
});

/** Runs the harness with one command per line; returns its answers. */
function harness(program: string, lines: string[]): string[] {
  return execFileSync(program, { input: `${lines.join('\n')}\n`, maxBuffer: 1 << 26 })
    .toString()
    .trimEnd()
    .split('\n');
}

describe('C wire protocol: docs/vectors/protocol.json', () => {
  const { protocol } = buildPosixBoard();

  it('COBS encodes and decodes every vector', () => {
    expect(
      harness(
        protocol,
        vectors.cobs.map((c) => `cobs ${or(c.decoded)}`),
      ),
    ).toEqual(vectors.cobs.map((c) => c.encoded));
    expect(
      harness(
        protocol,
        vectors.cobs.map((c) => `uncobs ${c.encoded}`),
      ),
    ).toEqual(vectors.cobs.map((c) => or(c.decoded)));
  });

  it('loss detection (protocol.md §4.0): frames sent before an acknowledged one are resent at once, once', () => {
    // DATA 0, 1, 2 at 0 ms; at 5 ms an ACK "expecting 0, have 2"; the same ACK again at 6 ms; all acked at
    // 16 ms. Without the rule 0 and 1 wait for the RTO (200 ms); resending them again on the repeated ACK
    // would be spurious. The TS link's twin is in transport-uart's reliable-link.test.ts.
    expect(harness(protocol, ['link-loss'])).toEqual(['open=1 sent: 0@0 1@0 2@0 0@5 1@5 retransmits=2']);
  });

  it('a timer found long overdue (the board was not polling) gives the answer another RTO; no RTT sample from it', () => {
    // DATA 0 at 0 ms, then no poll until 300 ms: the answer comes at 305 and nothing was resent. DATA 1 at
    // 305, never answered: resent after the initial RTO (50 ms; the stalled frame gave no sample), then 100.
    expect(harness(protocol, ['link-stall'])).toEqual(['open=1 sent: 0@0 1@305 1@355 1@455 retransmits=2']);
  });

  it('writes every frame byte for byte, and reads it back', () => {
    const lines = vectors.frames.map(
      (f) => `frame ${f.type} ${f.session} ${f.seq} ${f.ack} ${f.sack} ${or(f.payload)}`,
    );
    expect(harness(protocol, lines)).toEqual(vectors.frames.map((f) => f.wire));
    const blocks = vectors.frames.map((f) => `block ${f.wire.slice(2, -2)}`);
    expect(harness(protocol, blocks)).toEqual(
      vectors.frames.map((f) => `frame ${f.type} ${f.session} ${f.seq} ${f.ack} ${f.sack} ${or(f.payload)}`),
    );
  });

  it('drops every corrupt block for the same reason as the TS decoder', () => {
    expect(
      harness(
        protocol,
        vectors.corrupt.map((c) => `block ${c.block}`),
      ),
    ).toEqual(vectors.corrupt.map((c) => `drop ${c.reason}`));
  });
});

describe('C HELLO (link.h TP_HELLO_*): docs/vectors/protocol.json', () => {
  const { protocol } = buildPosixBoard();
  const boardVector = vectors.hello.find((v) => v.info.role === 'board')!;
  const hostVector = vectors.hello.find((v) => v.info.role === 'host')!;

  it('has the named offsets, size and protocol of helloLayout', () => {
    const { protocol: version, bytes, offsets } = vectors.helloLayout;
    expect(harness(protocol, ['hello-layout'])).toEqual([
      [version, bytes, ...Object.values(offsets)].join(' '),
    ]);
    expect(Object.keys(offsets)).toEqual([
      'protocol',
      'role',
      'board',
      'fingerprint',
      'layerFrom',
      'layerTo',
      'vocabFrom',
      'vocabTo',
      'maxPayload',
      'streams',
      'caps',
      'baud',
      'build',
    ]);
  });

  it("writes the board vector's bytes (tp_hello_board + tp_hello_set_build)", () => {
    const i = boardVector.info as {
      board: number;
      fingerprint: string;
      layers: [number, number];
      vocab: [number, number];
      streams: number;
      caps: { embedding: boolean; classifier: boolean; sampler: boolean };
      build: string;
    };
    const caps = (i.caps.embedding ? 1 : 0) | (i.caps.classifier ? 2 : 0) | (i.caps.sampler ? 4 : 0);
    const line = `hello-board ${i.board} ${i.fingerprint} ${i.layers[0]} ${i.layers[1]} ${i.vocab[0]} ${i.vocab[1]} ${i.streams} ${caps} ${i.build}`;
    expect(harness(protocol, [line])).toEqual([boardVector.bytes]);
  });

  it('checks a HELLO as the TS checkHello does: protocol, model, then build', () => {
    const board = boardVector.bytes;
    const withBuild = (h: string, build: string) => h.slice(0, 120) + build;
    const [ok, build, none, anyBuild, legacy, oldProtocol] = harness(protocol, [
      `hello-check ${withBuild(hostVector.bytes, 'c0c1c2c3c4c5c6c7')} ${board}`,
      `hello-check ${withBuild(hostVector.bytes, '0102030405060708')} ${board}`,
      `hello-check ${withBuild(hostVector.bytes, '0102030405060708')} ${withBuild(board, '00'.repeat(8))}`,
      `hello-check ${hostVector.bytes} ${board}`,
      `hello-check ${hostVector.bytes.slice(0, 120)} ${board}`,
      `hello-check 01${hostVector.bytes.slice(2)} ${board}`,
    ]);
    expect(ok).toBe('0 accepted');
    expect(build).toBe(
      "3 MIXED_BUILD: the host expects build 0102030405060708, this board's image is of build c0c1c2c3c4c5c6c7",
    );
    expect(none).toMatch(/^3 MIXED_BUILD: .* of build none$/);
    expect(anyBuild).toBe('0 accepted');
    expect(legacy).toMatch(/^1 PROTOCOL_MISMATCH: the host speaks protocol 2 \(60-byte HELLO\)/);
    expect(oldProtocol).toMatch(/^1 PROTOCOL_MISMATCH: the host speaks protocol 1 \(68-byte HELLO\)/);
  });
});

/** A binary32's bits as 8 hex digits (the C harness prints a float field that way). */
const f32Hex = (v: number) => {
  const b = new DataView(new ArrayBuffer(4));
  b.setFloat32(0, v, true);
  return b.getUint32(0, true).toString(16).padStart(8, '0');
};

describe('C messages: docs/vectors/protocol.json', () => {
  const { protocol } = buildPosixBoard();

  it('parses exactly the messages a board takes, with the same fields as the TS codec', () => {
    const takes = new Set([
      'start',
      'token',
      'activation',
      'end',
      'stats-request',
      'calibrate-request',
      'classify',
      'histogram-request',
      'draw',
    ]);
    const answers = harness(
      protocol,
      vectors.messages.map((v) => `parse ${v.bytes}`),
    );
    expect(answers).toEqual(
      vectors.messages.map(({ message: m }) => {
        if (!takes.has(m.kind as string)) return 'refused';
        const kind = {
          start: 1,
          token: 2,
          activation: 3,
          end: 6,
          'stats-request': 8,
          'calibrate-request': 9,
          classify: 10,
          'histogram-request': 12,
          draw: 14,
        }[m.kind as string];
        const flags = m.kind === 'start' ? (m.hashes ? 1 : 0) | (m.sample ? 2 : 0) | (m.sliced ? 4 : 0) : 0;
        const n = Array.isArray(m.x) ? m.x.length : 0;
        const max = typeof m.max === 'number' ? f32Hex(m.max) : '00000000';
        const bucket = m.bucket ?? m.below ?? 0;
        // DRAW's target: its LEB128 bytes, the message's tail after the 11-byte head
        const v = vectors.messages.find((x) => x.message === m)!;
        const target = m.kind === 'draw' ? v.bytes.slice(22) : '-';
        return `ok ${kind} ${m.stream ?? 0xffff} ${m.pos ?? 0} ${m.token ?? 0} ${flags} ${m.sampleFrom ?? 0} ${n} ${m.budgetMs ?? 0} ${max} ${bucket} ${target}`;
      }),
    );
  });

  it('writes TOKEN and the STATS and CALIBRATE answers byte for byte as the vectors', () => {
    const token = vectors.messages.find((v) => v.message.kind === 'token')!;
    const stats = vectors.messages.find((v) => v.message.kind === 'stats')!;
    const calibration = vectors.messages.find((v) => v.message.kind === 'calibration')!;
    const t = token.message;
    const c = stats.message;
    const k = calibration.message as Record<string, number | string | boolean>;
    // tp_calibration's fields in wire order (the flags byte from its three booleans)
    const flags = (k.image ? 1 : 0) | (k.preload ? 2 : 0) | (k.invalidate ? 4 : 0) | (k.host ? 8 : 0);
    const fields = [
      k.budgetMs,
      k.board,
      k.kernel,
      k.cores,
      flags,
      k.cpuMhz,
      k.lineBaud,
      k.imageBytes,
      k.readBytes,
      k.readUs,
      k.readSum,
      k.rows,
      k.cols,
      k.q4Reps,
      k.q4Us,
      k.q8Reps,
      k.q8Us,
      k.firstBytes,
      k.coldReps,
      k.coldUs,
      k.preloadedReps,
      k.preloadedUs,
      k.preloadUs,
    ];
    const order = [
      'board',
      'forwards',
      'computeUs',
      'framesOut',
      'framesIn',
      'bytesOut',
      'bytesIn',
      'retransmits',
      'dropped',
    ];
    expect(
      harness(protocol, [
        `token ${t.stream} ${t.pos} ${t.token}`,
        `stats ${order.map((f) => c[f]).join(' ')}`,
        `calibration ${fields.join(' ')} ${k.port}`,
      ]),
    ).toEqual([token.bytes, stats.bytes, calibration.bytes]);
    const max = vectors.messages.find((v) => v.message.kind === 'slice-max')!;
    const x = max.message as Record<string, number>;
    expect(harness(protocol, [`slice-max ${x.stream} ${x.pos} ${x.index} ${f32Hex(x.value!)}`])).toEqual([
      max.bytes,
    ]);
  });
});

describe('C sliced sampler (docs/numerics.md §10b): the same histograms and draws as @tinypipe/core', () => {
  const { protocol } = buildPosixBoard();
  /** Deterministic test logits: a spread, some ties, optionally far below the max (subnormal and zero e). */
  function logitsOf(n: number, seed: number, spread: number): Float32Array {
    let x = seed >>> 0;
    const r = () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    return Float32Array.from({ length: n }, (_, i) =>
      i % 17 === 3 ? 1.5 : Math.fround((r() - 0.5) * spread),
    );
  }
  const hex = (v: number) => f32Hex(v);
  const lebHex = (v: bigint) => Buffer.from(lebBytes(v)).toString('hex');
  const cases = [
    { n: 300, spread: 8, t: 1, topp: 0.9 },
    { n: 600, spread: 0.02, t: 1, topp: 0.9 }, // flat: many buckets
    { n: 400, spread: 400, t: 1, topp: 0.5 }, // e underflows: subnormal and zero values
    { n: 257, spread: 20, t: 0.3, topp: 0.99 },
    { n: 64, spread: 6, t: 0, topp: 0.9 },
    { n: 1, spread: 1, t: 2, topp: 0.9 },
  ];

  it('histograms from the top and below a bucket, and draws at targets across the nucleus', () => {
    const lines: string[] = [];
    const want: string[] = [];
    for (const [k, c] of cases.entries()) {
      const logits = logitsOf(c.n, k + 1, c.spread);
      const args = `${c.n} ${Array.from(logits, hex).join(' ')}`;
      const s = new SliceSampling(0, logits, c.t, Math.fround(c.topp));
      const { value: max, index } = s.max();
      for (const below of [TOP_BUCKET + 1, 0x3f4, 0x3e0, 0x3a0]) {
        const h = s.histogram(max, below);
        lines.push(`slice-hist ${hex(c.t)} ${hex(c.topp)} ${below} ${args}`);
        const masses = h.masses.map((m) => ` ${m}`).join('');
        want.push(`${index} ${h.top} ${h.masses.length} ${lebHex(h.rest)}${masses}`);
      }
      // targets: 0, across, and past the nucleus mass of a few buckets (units 2^-173)
      const whole = s.histogram(max);
      for (const bucket of [0, whole.top, Math.max(0, whole.top - 9)]) {
        let mass = 0n;
        for (const [j, m] of whole.masses.entries())
          if (whole.top - j >= bucket) mass += m << BigInt(Math.max((whole.top - j) >>> 3, 1) - 1);
        if (bucket === 0) mass += whole.rest;
        for (const target of [0n, (mass << 24n) / 3n, (mass << 24n) - 1n, mass << 24n]) {
          lines.push(`slice-draw ${hex(c.t)} ${bucket} ${lebHex(target)} ${args}`);
          want.push(String(s.draw(max, bucket, target)));
        }
      }
    }
    expect(harness(protocol, lines)).toEqual(want);
  });
});

describe('C receiver fuzzed under ASan + UBSan', () => {
  it('100,000 random and mutated frames in random chunks: no crash, no bad payload delivered', () => {
    const { protocol } = buildPosixBoard({ sanitize: true });
    const [line] = harness(protocol, ['fuzz 100000 12345']);
    const m = /^ok delivered=(\d+) dropped=(\d+) bad=(\d+)$/.exec(line!);
    expect(m, line).not.toBeNull();
    expect(Number(m![3])).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(40_000); // the intact half, and mutations that did not matter
    expect(Number(m![2])).toBeGreaterThan(40_000);
  }, 300_000);
});

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
