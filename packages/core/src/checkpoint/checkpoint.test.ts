import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { synthesize } from '../synth/synthesize.js';
import { checkpointLayout } from './layout.js';
import { readCheckpoint } from './read.js';
import { type Checkpoint, parameterCount } from './types.js';
import { writeCheckpoint } from './write.js';

const modelPath = fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url));
const bytes260K = new Uint8Array(readFileSync(modelPath));

function bitsOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function expectSameWeights(a: Checkpoint, b: Checkpoint): void {
  expect(b.config).toEqual(a.config);
  for (const key of Object.keys(a.weights) as (keyof Checkpoint['weights'])[]) {
    expect(Buffer.from(bitsOf(b.weights[key])).equals(Buffer.from(bitsOf(a.weights[key]))), key).toBe(true);
  }
}

describe('readCheckpoint', () => {
  it('reads the bundled stories260K (v0) with the published shape, zero-copy', () => {
    const ck = readCheckpoint(bytes260K);
    expect(ck.config).toEqual({
      dim: 64,
      hiddenDim: 172,
      nLayers: 5,
      nHeads: 8,
      nKvHeads: 4,
      vocabSize: 512,
      seqLen: 512,
      sharedClassifier: true,
    });
    expect(ck.source).toEqual({ version: 0 });
    expect(ck.weights.tokenEmbedding.buffer).toBe(bytes260K.buffer);
    expect(ck.weights.wcls).toBe(ck.weights.tokenEmbedding);
    // first embedding value is the float right after the 28-byte header
    expect(ck.weights.tokenEmbedding[0]).toBe(new DataView(bytes260K.buffer).getFloat32(28, true));
  });

  it('copies instead of viewing when the bytes are misaligned', () => {
    const shifted = new Uint8Array(bytes260K.length + 1).subarray(1);
    shifted.set(bytes260K);
    expectSameWeights(readCheckpoint(bytes260K), readCheckpoint(shifted));
  });

  it('v0 → v1 → v0 keeps every weight bit for bit, shared and unshared classifiers', () => {
    const shared = readCheckpoint(bytes260K);
    const unshared = synthesize({ ...shared.config, sharedClassifier: false, seqLen: 16 }, 3);
    for (const ck of [shared, unshared]) {
      const v1 = readCheckpoint(writeCheckpoint(ck, { version: 1 }));
      expect(v1.source).toEqual({ version: 1 });
      expectSameWeights(ck, v1);
      expectSameWeights(ck, readCheckpoint(writeCheckpoint(v1, { version: 0 })));
    }
    // v0 stores an unshared classifier as a negative vocab_size
    const raw = writeCheckpoint(unshared, { version: 0 });
    expect(new DataView(raw.buffer).getInt32(20, true)).toBe(-512);
  });

  it('v0 rewrite differs from the original file only inside the unused legacy RoPE tables', () => {
    const ck = readCheckpoint(bytes260K);
    const again = writeCheckpoint(ck, { version: 0 });
    expect(again.length).toBe(bytes260K.length);
    const rope = checkpointLayout(ck.config, 0).tensors.filter((t) => t.name.startsWith('freqCis'));
    const ropeStart = rope[0]!.offset;
    const ropeEnd = rope[1]!.offset + rope[1]!.bytes;
    expect(
      Buffer.from(again.subarray(0, ropeStart)).equals(Buffer.from(bytes260K.subarray(0, ropeStart))),
    ).toBe(true);
    expect(Buffer.from(again.subarray(ropeEnd)).equals(Buffer.from(bytes260K.subarray(ropeEnd)))).toBe(true);
    const a = new Float32Array(again.buffer, ropeStart, (ropeEnd - ropeStart) / 4);
    const b = new Float32Array(bytes260K.slice(ropeStart, ropeEnd).buffer);
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(2 ** -22);
  });

  it('v2 (Q8_0) reads back within half a quantization step of every weight', () => {
    const ck = readCheckpoint(bytes260K);
    const v2bytes = writeCheckpoint(ck, { version: 2 });
    const v2 = readCheckpoint(v2bytes);
    expect(v2.source).toEqual({ version: 2, groupSize: 64 });
    expect(v2.weights.rmsAtt).toEqual(ck.weights.rmsAtt); // norms stay fp32
    const gs = 64;
    for (const key of ['tokenEmbedding', 'wq', 'wk', 'w2'] as const) {
      const w = ck.weights[key];
      const r = v2.weights[key];
      for (let g = 0; g < w.length / gs; g++) {
        let max = 0;
        for (let i = g * gs; i < (g + 1) * gs; i++) max = Math.max(max, Math.abs(w[i]!));
        const half = max / 127 / 2;
        for (let i = g * gs; i < (g + 1) * gs; i++) {
          expect(Math.abs(w[i]! - r[i]!)).toBeLessThanOrEqual(half * (1 + 1e-6) + 1e-12);
        }
      }
    }
    // the explicit group size is honoured and recorded
    expect(readCheckpoint(writeCheckpoint(ck, { version: 2, groupSize: 32 })).source.groupSize).toBe(32);
    expect(codeOf(() => writeCheckpoint(ck, { version: 2, groupSize: 48 }))).toBe('QUANT_BAD_GROUP');
  });
});

describe('synthetic checkpoints', () => {
  // llama2.c v0 size: 28-byte header + 4 × (params + 2 × seq_len × head_size / 2 [legacy RoPE tables])
  const v0Bytes = (params: number, seqLen: number, headSize: number) => 28 + 4 * (params + seqLen * headSize);

  it('have the exact byte size of llama2.c stories15M.bin (60,816,028 bytes)', () => {
    const ck = synthesize('15M', 1);
    const bytes = writeCheckpoint(ck, { version: 0 });
    expect(parameterCount(ck.config)).toBe(15_191_712);
    expect(bytes.length).toBe(v0Bytes(15_191_712, 256, 48));
    expect(bytes.length).toBe(60_816_028);
    expectSameWeights(ck, readCheckpoint(bytes));
  });

  it('have the shapes and sizes of 42M and 110M (computed, not allocated)', () => {
    const l42 = checkpointLayout(
      {
        dim: 512,
        hiddenDim: 1376,
        nLayers: 8,
        nHeads: 8,
        nKvHeads: 8,
        vocabSize: 32000,
        seqLen: 1024,
        sharedClassifier: true,
      },
      0,
    );
    expect(l42.fileBytes).toBe(v0Bytes(41_689_600, 1024, 64));
    const l110 = checkpointLayout(
      {
        dim: 768,
        hiddenDim: 2048,
        nLayers: 12,
        nHeads: 12,
        nKvHeads: 12,
        vocabSize: 32000,
        seqLen: 1024,
        sharedClassifier: true,
      },
      0,
    );
    expect(l110.fileBytes).toBe(v0Bytes(109_529_856, 1024, 64));
  });

  it('are deterministic in the seed and differ across seeds', () => {
    const a = synthesize('260K', 7);
    expectSameWeights(a, synthesize('260K', 7));
    expect(
      Buffer.from(bitsOf(synthesize('260K', 8).weights.wq)).equals(Buffer.from(bitsOf(a.weights.wq))),
    ).toBe(false);
  });
});

describe('bad checkpoints: each failure has its own code', () => {
  const good = writeCheckpoint(
    synthesize(
      {
        dim: 16,
        hiddenDim: 32,
        nLayers: 2,
        nHeads: 2,
        nKvHeads: 1,
        vocabSize: 32,
        seqLen: 8,
        sharedClassifier: false,
      },
      1,
    ),
    { version: 0 },
  );
  const goodV1 = writeCheckpoint(readCheckpoint(good), { version: 1 });
  const goodV2 = writeCheckpoint(readCheckpoint(good), { version: 2, groupSize: 16 });
  const withInt = (src: Uint8Array, at: number, value: number) => {
    const copy = src.slice();
    new DataView(copy.buffer).setInt32(at, value, true);
    return copy;
  };
  const withU8 = (src: Uint8Array, at: number, value: number) => {
    const copy = src.slice();
    copy[at] = value;
    return copy;
  };
  const cases: [string, Uint8Array, string][] = [
    ['empty file', new Uint8Array(0), 'CHECKPOINT_TRUNCATED'],
    ['3 bytes', good.subarray(0, 3), 'CHECKPOINT_TRUNCATED'],
    ['27 bytes (v0 header cut)', good.subarray(0, 27), 'CHECKPOINT_TRUNCATED'],
    ['v1 header cut at 100 bytes', goodV1.subarray(0, 100), 'CHECKPOINT_TRUNCATED'],
    ['v1 magic only', goodV1.subarray(0, 6), 'CHECKPOINT_TRUNCATED'],
    ['cut mid-tensor', good.subarray(0, 28 + 1000), 'CHECKPOINT_SIZE_MISMATCH'],
    ['one byte short', good.subarray(0, good.length - 1), 'CHECKPOINT_SIZE_MISMATCH'],
    ['one byte long', new Uint8Array([...good, 0]), 'CHECKPOINT_SIZE_MISMATCH'],
    ['v2 one byte short', goodV2.subarray(0, goodV2.length - 1), 'CHECKPOINT_SIZE_MISMATCH'],
    [
      'foreign magic GGUF',
      new Uint8Array([...new TextEncoder().encode('GGUF'), ...good.subarray(4)]),
      'CHECKPOINT_BAD_MAGIC',
    ],
    [
      'a tinypipe image',
      new Uint8Array([...new TextEncoder().encode('TPIM'), ...good.subarray(4)]),
      'CHECKPOINT_BAD_MAGIC',
    ],
    [
      'unknown magic',
      new Uint8Array([...new TextEncoder().encode('ZZ99'), ...good.subarray(4)]),
      'CHECKPOINT_BAD_MAGIC',
    ],
    ['version 3', withInt(goodV1, 4, 3), 'CHECKPOINT_BAD_VERSION'],
    ['version 0 behind the magic', withInt(goodV1, 4, 0), 'CHECKPOINT_BAD_VERSION'],
    ['dim = 0', withInt(good, 0, 0), 'CHECKPOINT_BAD_HEADER'],
    ['dim < 0', withInt(good, 0, -16), 'CHECKPOINT_BAD_HEADER'],
    ['hidden_dim = 0', withInt(good, 4, 0), 'CHECKPOINT_BAD_HEADER'],
    ['n_layers < 0', withInt(good, 8, -2), 'CHECKPOINT_BAD_HEADER'],
    ['n_heads does not divide dim', withInt(good, 12, 3), 'CHECKPOINT_BAD_HEADER'],
    ['n_kv_heads does not divide n_heads', withInt(good, 16, 3), 'CHECKPOINT_BAD_HEADER'],
    ['odd head size', withInt(good, 12, 16), 'CHECKPOINT_BAD_HEADER'],
    ['vocab_size = 0', withInt(good, 20, 0), 'CHECKPOINT_BAD_HEADER'],
    ['seq_len = 0', withInt(good, 24, 0), 'CHECKPOINT_BAD_HEADER'],
    ['absurd dim (2^30)', withInt(good, 0, 2 ** 30), 'CHECKPOINT_SIZE_MISMATCH'],
    ['v1 negative vocab', withInt(goodV1, 28, -32), 'CHECKPOINT_BAD_HEADER'],
    ['v1 shared flag 7', withU8(goodV1, 36, 7), 'CHECKPOINT_BAD_HEADER'],
    ['v2 group size 0', withInt(goodV2, 37, 0), 'CHECKPOINT_BAD_HEADER'],
    ['v2 group size not dividing', withInt(goodV2, 37, 7), 'CHECKPOINT_BAD_HEADER'],
  ];
  for (const [name, bytes, code] of cases) {
    it(`${name} → ${code}`, () => {
      expect(codeOf(() => readCheckpoint(bytes))).toBe(code);
    });
  }

  it('messages say expected vs actual', () => {
    try {
      readCheckpoint(good.subarray(0, good.length - 1));
    } catch (e) {
      expect((e as Error).message).toContain(good.length.toLocaleString('en-US'));
      expect((e as Error).message).toContain((good.length - 1).toLocaleString('en-US'));
      expect((e as TinypipeError).details).toEqual({
        expected: good.length,
        actual: good.length - 1,
        version: 0,
      });
    }
  });
});
