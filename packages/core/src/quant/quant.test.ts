import { describe, expect, it } from 'vitest';
import { readImage } from '../image/read.js';
import { buildImage } from '../image/serialize.js';
import { fp16ToFp32 } from '../numerics/fp16.js';
import { Xorshift64Star } from '../sampler/rng.js';
import { synthesize } from '../synth/synthesize.js';
import { QuantEngine } from './engine.js';
import { prepareMatrix, qmatmul, quantizedVector, quantizeVector } from './kernels.js';
import { dequantize, quantize, quantizeMatrix, unpackInts } from './quantize.js';

const rng = new Xorshift64Star(11);
const randomFloats = (n: number, scale = 1) =>
  Float32Array.from({ length: n }, () => (rng.nextF32() - 0.5) * 2 * scale);

describe('weight quantization', () => {
  for (const kind of ['q4', 'q8'] as const) {
    it(`${kind}: dequantized weights are within half a step of the originals, ints in range`, () => {
      const qmax = kind === 'q4' ? 7 : 127;
      for (const cols of [31, 32, 33, 64, 172]) {
        const w = randomFloats(3 * cols, 2);
        const t = quantizeMatrix(w, 0, 3, cols, kind, 32);
        const groups = Math.ceil(cols / 32);
        expect(t.scales.length).toBe(3 * groups);
        const ints = unpackInts(t);
        const back = dequantize(t);
        for (let r = 0; r < 3; r++) {
          for (let j = 0; j < cols; j++) {
            const i = r * cols + j;
            expect(Math.abs(ints[i]!)).toBeLessThanOrEqual(qmax);
            const s = fp16ToFp32(t.scales[r * groups + Math.floor(j / 32)]!);
            expect(Math.abs(back[i]! - w[i]!)).toBeLessThanOrEqual(s / 2 + 1e-7);
          }
        }
      }
    });
  }
  it('an all-zero group stores zeros and a zero scale', () => {
    const t = quantizeMatrix(new Float32Array(64), 0, 1, 64, 'q4', 32);
    expect(Array.from(t.scales)).toEqual([0, 0]);
    expect(Array.from(unpackInts(t))).toEqual(new Array(64).fill(0));
  });
  it('rejects impossible group sizes and odd int4 rows', () => {
    const ck = synthesize(
      {
        dim: 16,
        hiddenDim: 33,
        nLayers: 1,
        nHeads: 2,
        nKvHeads: 2,
        vocabSize: 8,
        seqLen: 4,
        sharedClassifier: true,
      },
      1,
    );
    expect(() => quantize(ck, { weights: 'q4' })).toThrow(
      expect.objectContaining({ code: 'QUANT_BAD_GROUP' }),
    );
    expect(() => quantize(ck, { weights: 'q8', groupSize: 0 })).toThrow(
      expect.objectContaining({ code: 'QUANT_BAD_GROUP' }),
    );
    expect(quantize(ck, { weights: 'q8', groupSize: 5 }).groupSize).toBe(5);
  });
});

describe('quantized matmul', () => {
  it('integer dots are exact and groups accumulate in spec order, at sizes around the group width', () => {
    for (const cols of [1, 31, 32, 33, 63, 64, 65, 288]) {
      for (const kind of ['q4', 'q8'] as const) {
        const rows = 5;
        const w = quantizeMatrix(randomFloats(rows * cols), 0, rows, cols, kind, 32);
        const x = randomFloats(cols, 3);
        const xv = quantizedVector(cols, 32);
        quantizeVector(x, cols, 32, xv);
        const out = new Float32Array(rows);
        qmatmul(out, xv, prepareMatrix(w));
        // reference written from the spec: BigInt integer dot, then the three binary32 steps
        const ints = unpackInts(w);
        const groups = Math.ceil(cols / 32);
        for (let i = 0; i < rows; i++) {
          let acc = 0;
          for (let g = 0; g < groups; g++) {
            let dot = 0n;
            for (let j = g * 32; j < Math.min(cols, (g + 1) * 32); j++)
              dot += BigInt(ints[i * cols + j]!) * BigInt(xv.q[j]!);
            const scale = Math.fround(fp16ToFp32(w.scales[i * groups + g]!) * xv.s[g]!);
            acc = Math.fround(acc + Math.fround(Number(dot) * scale));
          }
          expect(out[i], `cols ${cols} ${kind} row ${i}`).toBe(acc);
        }
      }
    }
  });
});

describe('stages from images', () => {
  it('an engine over images read back from bytes equals the engine over the in-memory model', () => {
    const ck = synthesize(
      {
        dim: 32,
        hiddenDim: 48,
        nLayers: 3,
        nHeads: 4,
        nKvHeads: 2,
        vocabSize: 64,
        seqLen: 16,
        sharedClassifier: false,
      },
      9,
    );
    const qm = quantize(ck, { weights: 'q4', groupSize: 32 });
    const direct = QuantEngine.fromModel(qm, { layerHashes: true });
    const images = [
      buildImage(qm, { layers: [0, 1], embedding: true, classifier: false }),
      buildImage(qm, { layers: [1, 3], embedding: false, classifier: [0, 40] }),
      buildImage(qm, { layers: [3, 3], embedding: false, classifier: [40, 64] }),
    ];
    const fromBytes = new QuantEngine(
      images.map((b) => readImage(b).stage),
      { layerHashes: true },
    );
    let token = 1;
    for (let pos = 0; pos < 16; pos++) {
      const a = Float32Array.from(direct.forward(token, pos));
      const b = fromBytes.forward(token, pos);
      expect(Buffer.from(b.buffer, b.byteOffset, b.byteLength).equals(Buffer.from(a.buffer))).toBe(true);
      expect(fromBytes.lastLayerHashes()).toEqual(direct.lastLayerHashes());
      token = (token * 7 + pos) % 64;
    }
  });

  it('refuses stages that do not compose into the model', () => {
    const ck = synthesize(
      {
        dim: 32,
        hiddenDim: 48,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 4,
        vocabSize: 32,
        seqLen: 8,
        sharedClassifier: true,
      },
      2,
    );
    const qm = quantize(ck, { weights: 'q8' });
    expect(() => QuantEngine.fromModel(qm, { split: [1] })).toThrow(/covers 1 layers/);
    expect(() => QuantEngine.fromModel(qm, { split: [1, 1], classifierSlices: 3 })).toThrow(
      /classifierSlices/,
    );
    const other = quantize(synthesize(ck.config, 3), { weights: 'q8' });
    const a = readImage(buildImage(qm, { layers: [0, 1], embedding: true, classifier: false })).stage;
    const b = readImage(buildImage(other, { layers: [1, 2], embedding: false, classifier: true })).stage;
    expect(() => new QuantEngine([a, b])).toThrow(expect.objectContaining({ code: 'IMAGE_MISMATCH' }));
  });
});

describe('non-finite and tiny activations (docs/numerics.md §3a)', () => {
  it('NaN or ±Inf at a matmul input is NONFINITE; a group whose 127 / max overflows quantizes as zero', () => {
    const out = quantizedVector(8, 4);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]);
      x[5] = bad;
      expect(() => quantizeVector(x, 8, 4, out)).toThrow(expect.objectContaining({ code: 'NONFINITE' }));
    }
    const x = new Float32Array([1e-38, -2e-38, 0, 1e-45, 3e38, -3e38, 1, 0]);
    quantizeVector(x, 8, 4, out);
    expect([...out.q.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
    expect(out.s[0]).toBe(0);
    expect([...out.q.subarray(4)]).toEqual([127, -127, 0, 0]);
  });
});
