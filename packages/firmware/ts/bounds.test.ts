/**
 * Bounds at every boundary (issue 17, item 1), through the real binaries under ASan/UBSan: crafted image
 * headers (the TS and C verifiers accept exactly the same set, with the same code), images beyond the
 * board's compiled limits, hostile sampling parameters and non-finite activations — each a coded error,
 * no crash, the board still serving.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildImage,
  checkBoardLimits,
  expectedTensors,
  type ModelConfig,
  QuantEngine,
  QuantStage,
  quantize,
  quantizedVector,
  quantizeVector,
  readImage,
  Sampler,
  splitSelections,
  synthesize,
} from '@tinypipe/core';
import { Pipeline, pipelinePlan } from '@tinypipe/pipeline';
import { crc32c, decodeMessage, encodeMessage, type Message, TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Board, spawnBoard } from './board.js';
import { type BuiltPrograms, buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

let asan: BuiltPrograms;
let board: Board;
const running: PtyBoard[] = [];
beforeAll(() => {
  asan = buildPosixBoard({ sanitize: true });
  board = spawnBoard({ program: asan.board });
});
afterAll(async () => {
  await board.close();
  await Promise.all(running.map((b) => b.kill('SIGKILL')));
});

/** The header fields of docs/image-format.md §3, by offset, as u32 (a crafted header may hold anything). */
interface Fields {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  seqLen: number;
  shared: number;
  layerFrom: number;
  layerTo: number;
  flags: number;
  vocabFrom: number;
  vocabTo: number;
  bits: number;
  group: number;
}

const u32 = (v: number) => v >>> 0;

/** The header bytes outside `Fields`: the format version, `build_id` (version 2) and the reserved area. */
interface Extra {
  version: number;
  /** 8 bytes at 0x78 (reserved, so must be zero, in version 1). */
  build: readonly number[];
  /** One byte of the header's tail set: [offset in 0x78..0xFF, value]. */
  poke?: readonly [number, number] | undefined;
}
const CURRENT: Extra = { version: 2, build: [0, 0, 0, 0, 0, 0, 0, 0] };

/**
 * An image with these header fields: the table is what the TS layout implies (byte lengths and offsets cut to
 * u32 as a crafted file would hold them), the header CRC right, tensor data present (zeros, CRCs right) when
 * the whole image is under 1 MB, else only header and table.
 */
function craft(f: Fields, countDelta = 0, extra: Extra = CURRENT): Uint8Array {
  let specs: { name: string; dtype: number; shape: readonly number[]; byteLength: number }[] = [];
  // a huge layer span is refused before the table: list nothing (16 entries a layer would not fit memory)
  if (u32(f.layerTo) - u32(f.layerFrom) <= 4 || f.layerTo < f.layerFrom)
    try {
      specs = expectedTensors({
        config: {
          dim: f.dim,
          hiddenDim: f.hidden,
          nLayers: f.layers,
          nHeads: f.heads,
          nKvHeads: f.kvHeads,
          vocabSize: f.vocab,
          seqLen: f.seqLen,
          sharedClassifier: f.shared === 1,
        },
        kind: f.bits === 4 ? 'q4' : 'q8',
        groupSize: f.group,
        layerRange: [f.layerFrom, f.layerTo],
        embedding: (f.flags & 1) !== 0,
        vocabRange: f.flags & 2 ? [f.vocabFrom, f.vocabTo] : undefined,
      }).map((s) => ({
        name: s.name,
        dtype: { f32: 1, f16: 2, i8: 3, i4x2: 4 }[s.dtype],
        shape: s.shape,
        byteLength: s.byteLength,
      }));
    } catch {
      specs = [];
    }
  if (specs.length > 64) specs = specs.slice(0, 64);
  const count = u32(specs.length + countDelta);
  const tableEnd = 256 + 64 * specs.length;
  let at = Math.ceil((tableEnd + 1) / 16) * 16; // image_size must exceed the table's end
  const offsets = specs.map((s) => {
    const o = at;
    at = Math.ceil((at + (Number.isFinite(s.byteLength) ? s.byteLength : 0)) / 16) * 16;
    return o;
  });
  const last = specs.length ? (offsets.at(-1) as number) + (specs.at(-1)?.byteLength ?? 0) : at;
  const imageSize = Number.isFinite(last) ? last : 0;
  const withData = imageSize < 1 << 20;
  const bytes = new Uint8Array(withData ? Math.max(imageSize, tableEnd) : tableEnd);
  const dv = new DataView(bytes.buffer);
  const put = (o: number, v: number) => dv.setUint32(o, u32(v), true);
  put(0, 0x4d495054);
  put(4, extra.version);
  put(8, 256);
  bytes.set(extra.build, 0x78);
  if (extra.poke) bytes[extra.poke[0]] = extra.poke[1];
  for (let i = 0; i < 32; i++) bytes[0x10 + i] = i;
  const values = [
    f.dim,
    f.hidden,
    f.layers,
    f.heads,
    f.kvHeads,
    f.vocab,
    f.seqLen,
    f.shared,
    f.layerFrom,
    f.layerTo,
  ];
  for (const [i, v] of values.entries()) put(0x30 + 4 * i, v);
  put(0x58, f.flags);
  put(0x5c, f.vocabFrom);
  put(0x60, f.vocabTo);
  put(0x64, f.bits);
  put(0x68, f.group);
  put(0x6c, count);
  put(0x70, 256);
  put(0x74, imageSize % 2 ** 32);
  specs.forEach((s, k) => {
    const e = 256 + 64 * k;
    for (let i = 0; i < s.name.length && i < 31; i++) bytes[e + i] = s.name.charCodeAt(i);
    dv.setUint16(e + 0x20, s.dtype ?? 0, true);
    dv.setUint16(e + 0x22, s.shape.length, true);
    for (const [i, d] of s.shape.entries()) put(e + 0x24 + 4 * i, d % 2 ** 32);
    put(e + 0x30, (offsets[k] as number) % 2 ** 32);
    put(e + 0x34, Number.isFinite(s.byteLength) ? s.byteLength % 2 ** 32 : 0);
    const o = offsets[k] as number;
    if (withData) put(e + 0x38, crc32c(bytes.subarray(o, o + s.byteLength)));
  });
  const head = crc32c(bytes.subarray(0, 0x0c));
  put(0x0c, crc32c(bytes.subarray(0x10, tableEnd), head));
  return bytes;
}

/** TS: readImage then the firmware's limits — the code, or OK. */
function tsVerdict(bytes: Uint8Array): string {
  try {
    checkBoardLimits(readImage(bytes).header);
    return 'OK';
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    return e.code;
  }
}

/** C: the ASan board's 'O' (tp_image_open, then tp_server_fits and the arena) — the status name, or OK. */
async function cVerdict(bytes: Uint8Array, name = 'crafted.img'): Promise<string> {
  const path = join(tmp, name);
  writeFileSync(path, bytes);
  try {
    await board.open(path);
    return 'OK';
  } catch (e) {
    return String((e as TinypipeError).details?.boardCode);
  }
}

const special = fc.constantFrom(
  0,
  1,
  2,
  3,
  4,
  8,
  16,
  64,
  512,
  1024,
  1025,
  2048,
  2 ** 23,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
);
const small = fc.integer({ min: 1, max: 8 });
/** A small valid-looking config with some fields replaced by huge, zero or "negative" (≥ 2^31) values. */
const fieldsArb: fc.Arbitrary<Fields> = fc
  .record({
    headSize: fc.constantFrom(2, 4, 8),
    heads: fc.constantFrom(1, 2, 4),
    kvDiv: fc.constantFrom(1, 2),
    hidden: fc.constantFrom(4, 8, 16, 12),
    layers: small,
    vocab: fc.integer({ min: 1, max: 40 }),
    seqLen: fc.integer({ min: 1, max: 8 }),
    shared: fc.constantFrom(0, 1),
    flags: fc.constantFrom(0, 1, 2, 3),
    bits: fc.constantFrom(4, 8),
    group: fc.constantFrom(1, 2, 4, 8, 32),
    from: fc.nat(3),
    span: fc.nat(3),
    v0: fc.nat(4),
    vspan: fc.integer({ min: 1, max: 8 }),
  })
  .map((r) => {
    const kv = Math.max(1, r.heads / r.kvDiv);
    const layerFrom = Math.min(r.from, r.layers);
    const vocabFrom = Math.min(r.v0, r.vocab - 1);
    return {
      dim: r.headSize * r.heads,
      hidden: r.hidden,
      layers: r.layers,
      heads: r.heads,
      kvHeads: kv,
      vocab: r.vocab,
      seqLen: r.seqLen,
      shared: r.shared,
      layerFrom,
      layerTo: Math.min(layerFrom + r.span, r.layers),
      flags: r.flags,
      vocabFrom: r.flags & 2 ? vocabFrom : 0,
      vocabTo: r.flags & 2 ? Math.min(vocabFrom + r.vspan, r.vocab) : 0,
      bits: r.bits,
      group: r.group,
    };
  })
  .chain((base) =>
    fc
      .array(fc.tuple(fc.constantFrom(...(Object.keys(base) as (keyof Fields)[])), special), { maxLength: 3 })
      .map((overrides) => {
        const f: Fields = { ...base };
        for (const [k, v] of overrides) f[k] = v;
        return f;
      }),
  );

/** Versions 1 and 2 (mostly), others now and then; a zero or any build id; sometimes one byte of the tail set. */
const extraArb: fc.Arbitrary<Extra> = fc.record({
  version: fc.constantFrom(2, 2, 2, 1, 1, 0, 3, 2 ** 32 - 1),
  build: fc.oneof(
    fc.constant([0, 0, 0, 0, 0, 0, 0, 0]),
    fc.array(fc.nat(255), { minLength: 8, maxLength: 8 }),
  ),
  poke: fc.option(fc.tuple(fc.integer({ min: 0x78, max: 0xff }), fc.integer({ min: 1, max: 255 })), {
    freq: 4,
    nil: undefined,
  }),
});

describe('crafted headers: the TS and C verifiers accept exactly the same set', () => {
  it('differential: fast-check header fields (zero, huge, ≥ 2^31), versions 1/2/other, build ids and reserved bytes, the same verdict and code', async () => {
    let accepted = 0;
    let cases = 0;
    const acceptedKinds = new Set<string>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fieldsArb, fc.constantFrom(0, 0, 0, 1, -1), extraArb, async (f, delta, extra) => {
        const bytes = craft(f, delta, extra);
        const ts = tsVerdict(bytes);
        const c = await cVerdict(bytes);
        cases++;
        if (ts === 'OK') {
          accepted++;
          acceptedKinds.add(`v${extra.version}${extra.build.some((b) => b !== 0) ? '+build' : ''}`);
        }
        expect(c, JSON.stringify({ f, extra })).toBe(ts);
      }),
      { numRuns: 1500, seed: 17 },
    );
    // a differential test that never reaches acceptance would prove little
    expect(accepted).toBeGreaterThan(50);
    // both versions were accepted, version 2 with a build id too (version 1 never has one)
    expect([...acceptedKinds].sort()).toEqual(['v1', 'v2', 'v2+build']);
    console.info(
      `bounds: ${cases} crafted headers, ${accepted} accepted, ${Math.round(performance.now() - started)} ms`,
    );
  }, 300_000);

  it('a 400-byte image claiming vocab 2^23 × dim 512 (lengths wrap in 32 bits) is refused by both, IMAGE_BAD_TABLE', async () => {
    const f: Fields = {
      dim: 512,
      hidden: 512,
      layers: 1,
      heads: 8,
      kvHeads: 8,
      vocab: 2 ** 23,
      seqLen: 4,
      shared: 0,
      layerFrom: 0,
      layerTo: 0,
      flags: 1,
      vocabFrom: 0,
      vocabTo: 0,
      bits: 8,
      group: 2,
    };
    const bytes = craft(f); // i8 data 2^32 bytes and f16 scales 2^32 bytes: both 0 in a u32 field
    expect(bytes.length).toBeLessThan(512);
    expect(tsVerdict(bytes)).toBe('IMAGE_BAD_TABLE');
    expect(await cVerdict(bytes)).toBe('IMAGE_BAD_TABLE');
  });
});

/** A synthetic model quantized (n_kv_heads = n_heads). */
function tiny(c: Omit<ModelConfig, 'nKvHeads'>, seed: number, weights: 'q4' | 'q8') {
  return quantize(synthesize({ ...c, nKvHeads: c.nHeads }, seed), { weights });
}

/** A small model's shape (two layers). */
const SMALL: Omit<ModelConfig, 'nKvHeads'> = {
  dim: 64,
  hiddenDim: 128,
  nLayers: 2,
  nHeads: 4,
  vocabSize: 32,
  seqLen: 8,
  sharedClassifier: false,
};

/** Closes the host's link; the board must still be running, with no sanitizer report in its log. */
async function closeClean(l: ReliableLink, pty: PtyBoard): Promise<void> {
  await l.close();
  expect(pty.process.exitCode).toBeNull();
  expect(pty.log()).not.toMatch(/Sanitizer|runtime error/);
}

/** An embedding-only image of a dim-2048 model: valid, and twice the board's 1024-float activation buffer. */
function wideImage(): Uint8Array {
  const qm = tiny(
    { dim: 2048, hiddenDim: 64, nLayers: 1, nHeads: 16, vocabSize: 8, seqLen: 4, sharedClassifier: false },
    3,
    'q8',
  );
  return buildImage(qm, { layers: [0, 0], embedding: true, classifier: false });
}

async function link(path: string): Promise<{ l: ReliableLink; next: () => Promise<Message> }> {
  const l = await ReliableLink.connect(await openSerialPort(path), {});
  const reader = l.messages.getReader();
  return {
    l,
    next: async () => {
      const r = await reader.read();
      if (r.done) throw new Error('link closed');
      return decodeMessage(r.value);
    },
  };
}

describe('an image beyond the compiled limits is refused at boot with IMAGE_EXCEEDS_BOARD', () => {
  it("dim 2048: TS checkBoardLimits, the board's O, and the PTY board answers TOKEN 0 with ERROR 16 (no overflow)", async () => {
    const bytes = wideImage();
    expect(readImage(bytes).header.config.dim).toBe(2048); // a valid image…
    expect(tsVerdict(bytes)).toBe('IMAGE_EXCEEDS_BOARD'); // …that no board runs
    expect(await cVerdict(bytes, 'wide.img')).toBe('IMAGE_EXCEEDS_BOARD');
    const path = join(tmp, 'wide.img');
    await expect(board.open(path)).rejects.toMatchObject({ code: 'IMAGE_EXCEEDS_BOARD' });
    const pty = await spawnPtyBoard(path, { program: asan.board });
    running.push(pty);
    const { l, next } = await link(pty.path);
    await l.send(encodeMessage({ kind: 'token', stream: 0, pos: 0, token: 0 }));
    const m = await next();
    expect(m).toMatchObject({ kind: 'error', code: 16 });
    await closeClean(l, pty); // still serving: no SIGSEGV, no sanitizer report
    expect(pty.log()).toContain('IMAGE_EXCEEDS_BOARD');
  }, 60_000);
});

describe('non-finite values are a coded error in TS and C alike (docs/numerics.md §3a)', () => {
  it('NaN, ±Inf and 3e38 in an activation: the same verdict on the ASan board and the TS QuantStage; the next forward is unaffected', async () => {
    const qm = tiny(SMALL, 5, 'q4');
    const bytes = buildImage(qm, { layers: [0, 2], embedding: true, classifier: true });
    const path = join(tmp, 'nonfinite.img');
    writeFileSync(path, bytes);
    await board.open(path);
    const stage = new QuantStage(readImage(bytes).stage);
    for (const [pos, bad] of [NaN, Infinity, -Infinity, 3e38].entries()) {
      const x = stage.embed(1).slice();
      x[7] = bad;
      let ts = 'OK';
      const tx = x.slice();
      try {
        stage.forward(tx, pos);
        stage.classify(tx);
      } catch (e) {
        ts = (e as TinypipeError).code;
      }
      let c = 'OK';
      try {
        const r = await board.forward(x, pos);
        await board.classify(r.x);
      } catch (e) {
        c = String((e as TinypipeError).details?.boardCode);
      }
      expect(c, String(bad)).toBe(ts);
      if (Number.isNaN(bad) || !Number.isFinite(bad)) expect(c).toBe('NONFINITE');
    }
    // the KV rows of the refused positions are garbage, but a fresh position of a clean input computes as TS
    const x = stage.embed(2).slice();
    const c = await board.forward(x.slice(), 0);
    stage.forward(x, 0);
    expect(Buffer.from(c.x.buffer).equals(Buffer.from(x.buffer))).toBe(true);
  }, 60_000);
});

describe('sampling on the board is defined for every input (docs/numerics.md §10a)', () => {
  it('START with NaN / negative / huge parameters → ERROR INVALID_ARGUMENT; temperature 1e-44 → NONFINITE; 1e30 with topp 0.001 samples as the TS Sampler', async () => {
    const qm = tiny(
      { dim: 64, hiddenDim: 128, nLayers: 1, nHeads: 4, vocabSize: 32, seqLen: 16, sharedClassifier: true },
      9,
      'q8',
    );
    const path = join(tmp, 'sampler.img');
    writeFileSync(path, buildImage(qm, { layers: [0, 1], embedding: true, classifier: true }));
    const pty = await spawnPtyBoard(path, { program: asan.board, streams: 2 });
    running.push(pty);
    const { l, next } = await link(pty.path);
    const start = (stream: number, temperature: number, topp: number) =>
      l.send(
        encodeMessage({
          kind: 'start',
          stream,
          hashes: false,
          sample: true,
          temperature,
          topp,
          seed: 7n,
          sampleFrom: 0,
        }),
      );
    for (const [t, p] of [
      [Number.NaN, 0.9],
      [-1, 0.9],
      [Number.POSITIVE_INFINITY, 0.9],
      [1, Number.NaN],
      [1, 2],
    ] as const) {
      await start(0, t, p);
      expect(await next(), `${t} ${p}`).toMatchObject({ kind: 'error', code: 12 });
    }
    // a tiny temperature overflows logits / temperature: a coded error, the RNG untouched
    await start(0, 1e-44, 0.9); // a subnormal: these small logits / it overflow
    await l.send(encodeMessage({ kind: 'token', stream: 0, pos: 0, token: 1 }));
    expect(await next()).toMatchObject({ kind: 'error', code: 17 });
    expect(() =>
      new Sampler({ vocabSize: 32, temperature: 1e-44, topp: 0.9, seed: 7, exp: 'spec' }).sample(
        QuantEngine.fromModel(qm).forward(1, 0).slice(),
      ),
    ).toThrow(expect.objectContaining({ code: 'NONFINITE' }));
    // temperature 1e30 makes the distribution uniform and topp 0.001 leaves no token above the cutoff: top-p
    // falls back to the whole vocabulary, on the board and in TS, token for token
    await start(1, 1e30, 0.001);
    const engine = QuantEngine.fromModel(qm);
    const sampler = new Sampler({ vocabSize: 32, temperature: 1e30, topp: 0.001, seed: 7, exp: 'spec' });
    let token = 1;
    for (let pos = 0; pos < 8; pos++) {
      const want = sampler.sample(engine.forward(token, pos).slice());
      await l.send(encodeMessage({ kind: 'token', stream: 1, pos, token }));
      const m = await next();
      expect(m).toMatchObject({ kind: 'token', stream: 1, pos, token: want });
      token = want;
    }
    await closeClean(l, pty);
  }, 60_000);
});

describe('activation quantization at the edges, C (tp-vectors) against TS', () => {
  it('subnormal and tiny groups quantize as zero, 3e38 as ±127, NaN and ±Inf are NONFINITE — the same in both', () => {
    const groups = [
      [1e-38, -2e-38, 0, 1e-45],
      [3.7e-37, 1e-37, 0, -3.7e-37],
      [3e38, -3e38, 1, 0],
      [Number.MIN_VALUE, 0, 0, 0],
      [1, Number.NaN, 2, 3],
      [Number.POSITIVE_INFINITY, 0, 0, 0],
      [0, 0, Number.NEGATIVE_INFINITY, 1],
    ];
    const hex = (v: number) => {
      const b = new DataView(new ArrayBuffer(4));
      b.setFloat32(0, v, true);
      return b.getUint32(0, true).toString(16);
    };
    const input = groups.map((g) => `act 4 ${g.map(hex).join(' ')}`).join('\n');
    const c = execFileSync(asan.vectors, { input: `${input}\n`, encoding: 'utf8' })
      .trim()
      .split('\n');
    const ts = groups.map((g) => {
      const out = quantizedVector(4, 4);
      try {
        quantizeVector(new Float32Array(g), 4, 4, out);
      } catch (e) {
        return (e as TinypipeError).code;
      }
      return `${[...out.q].map((q) => `${q} `).join('')}| 0x${hex(out.s[0] as number).padStart(8, '0')}`;
    });
    expect(c).toEqual(ts);
  });
});

/** `bytes` with `patch` applied to tensor `name`'s data, its CRC and the header CRC made right again. */
function patchTensor(bytes: Uint8Array, name: string, patch: (data: DataView) => void): Uint8Array {
  const out = bytes.slice();
  const { tensors } = readImage(bytes);
  const k = tensors.findIndex((t) => t.name === name);
  const t = tensors[k]!;
  patch(new DataView(out.buffer, t.offset, t.byteLength));
  const dv = new DataView(out.buffer);
  dv.setUint32(256 + 64 * k + 0x38, crc32c(out.subarray(t.offset, t.offset + t.byteLength)), true);
  const end = 256 + 64 * tensors.length;
  dv.setUint32(0x0c, crc32c(out.subarray(0x10, end), crc32c(out.subarray(0, 0x0c))), true);
  return out;
}

describe('non-finite weights and activations on the wire: ERROR NONFINITE for that stream, the others fine', () => {
  it('an infinite norm weight, an infinite binary16 scale, a NaN ACTIVATION — TS and the PTY board agree', async () => {
    const qm = tiny(SMALL, 5, 'q8');
    const clean = buildImage(qm, { layers: [0, 2], embedding: true, classifier: false });
    const images = {
      norm: patchTensor(clean, 'layers.1.rms_ffn', (d) => d.setFloat32(12, Number.POSITIVE_INFINITY, true)),
      scale: patchTensor(clean, 'embedding.scales', (d) => d.setUint16(2 * 2 * 3, 0x7c00, true)), // row 3 of 64/32 groups
    };
    for (const [label, bytes] of Object.entries(images)) {
      const stage = new QuantStage(readImage(bytes).stage); // a valid image: the CRCs cover the bad values
      const path = join(tmp, `nonfinite-${label}.img`);
      writeFileSync(path, bytes);
      const pty = await spawnPtyBoard(path, { program: asan.board, streams: 2 });
      running.push(pty);
      const { l, next } = await link(pty.path);
      const token = label === 'scale' ? 3 : 1;
      let ts = 'OK';
      try {
        stage.forward(stage.embed(token).slice(), 0);
      } catch (e) {
        ts = (e as TinypipeError).code;
      }
      expect(ts, label).toBe('NONFINITE');
      await l.send(encodeMessage({ kind: 'token', stream: 0, pos: 0, token }));
      expect(await next(), label).toMatchObject({ kind: 'error', stream: 0, code: 17 });
      if (label === 'scale') {
        // another stream, another token: computed as TS computes it
        await l.send(encodeMessage({ kind: 'token', stream: 1, pos: 0, token: 2 }));
        const m = await next();
        const x = stage.embed(2).slice();
        stage.forward(x, 0);
        expect(m.kind === 'activation' && Buffer.from(m.x.buffer).equals(Buffer.from(x.buffer))).toBe(true);
        // a NaN ACTIVATION on stream 0 (a layers stage refuses it the same way)
        const nan = x.slice();
        nan[3] = Number.NaN;
        await l.send(encodeMessage({ kind: 'activation', stream: 0, pos: 1, x: nan }));
        expect(await next()).toMatchObject({ kind: 'error', stream: 0, code: 17 });
      }
      await closeClean(l, pty);
    }
  }, 60_000);
});

describe("the host surfaces the board's coded errors", () => {
  it('Pipeline.forward on a board whose weights overflow rejects with NONFINITE', async () => {
    const qm = tiny(SMALL, 5, 'q8');
    const [sel] = splitSelections(qm.config, [2], 1);
    const bytes = patchTensor(buildImage(qm, sel!), 'layers.1.rms_ffn', (d) =>
      d.setFloat32(12, Number.POSITIVE_INFINITY, true),
    );
    const path = join(tmp, 'pipeline-nonfinite.img');
    writeFileSync(path, bytes);
    const pty = await spawnPtyBoard(path, { program: asan.board });
    running.push(pty);
    const l = await ReliableLink.connect(await openSerialPort(pty.path), {
      expect: { fingerprint: qm.fingerprint },
    });
    const pipeline = Pipeline.connect([l], pipelinePlan(qm, [sel!]));
    await expect(pipeline.forward(0, 1, 0)).rejects.toMatchObject({
      code: 'NONFINITE',
      details: { firmwareCode: 'NONFINITE', code: 17 },
    });
    await pipeline.close();
    expect(pty.log()).not.toMatch(/Sanitizer|runtime error/);
  }, 60_000);
});
