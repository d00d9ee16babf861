/**
 * Bounds at every boundary (issue 17, item 1), through the real binaries under ASan/UBSan: images beyond the
 * board's compiled limits, hostile sampling parameters and non-finite weights and activations — each a coded
 * error, no crash, the board still serving. Crafted headers: bounds-header.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildImage,
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
import { crc32c, decodeMessage, encodeMessage, type Message, type TinypipeError } from '@tinypipe/protocol';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { describe, expect, it } from 'vitest';
import { asan, board, cVerdict, running, tsVerdict } from './bounds.test-helper.js';
import { tmp } from './helpers.test-helper.js';
import { type PtyBoard, spawnPtyBoard } from './pty-board.js';

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
