/**
 * The wire protocol in C (src/link/) against the shared vectors of docs/vectors/protocol.json, through the
 * `tp-protocol` harness: COBS, frames written and read byte for byte, corrupt blocks dropped for the TS
 * decoder's reasons, the HELLO layout and check, and the messages a board parses and writes.
 */
import { type KvFormat, kvFormatCode } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { f32Hex, harness, or, vectors } from './protocol.test-helper.js';

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

  it("writes every board vector's bytes (tp_hello_board + tp_hello_set_build), the KV format in caps bits 3–4", () => {
    const boards = vectors.hello.filter((v) => v.info.role === 'board');
    const lines = boards.map((v) => {
      const i = v.info as {
        board: number;
        fingerprint: string;
        layers: [number, number];
        vocab: [number, number];
        streams: number;
        caps: { embedding: boolean; classifier: boolean; sampler: boolean; kv: KvFormat };
        build: string;
      };
      const caps =
        (i.caps.embedding ? 1 : 0) |
        (i.caps.classifier ? 2 : 0) |
        (i.caps.sampler ? 4 : 0) |
        (kvFormatCode(i.caps.kv) << 3);
      return `hello-board ${i.board} ${i.fingerprint} ${i.layers[0]} ${i.layers[1]} ${i.vocab[0]} ${i.vocab[1]} ${i.streams} ${caps} ${i.build}`;
    });
    expect(harness(protocol, lines)).toEqual(boards.map((v) => v.bytes));
    // each KV format has a vector
    expect(new Set(boards.map((v) => (v.info.caps as { kv: KvFormat }).kv))).toEqual(
      new Set(['fp32', 'fp16', 'int8']),
    );
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
