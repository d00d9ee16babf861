/**
 * The KV cache formats in the quantized engines (docs/numerics.md §6b): the option is applied (fp16 and
 * int8 change the logits, fp32 is today's engine), the cache holds the read-back values, the JS and wasm
 * paths agree bit for bit, and every split of the layers equals the unsplit run in each format.
 */
import { KV_FORMATS, type KvFormat } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { bits, ODD_SHAPE, stories260K } from '../kernels/kernels.test-helper.js';
import { synthesize } from '../synth/synthesize.js';
import { QuantEngine } from './engine.js';
import { StageKvCache } from './kv-cache.js';
import { readKvRow, storeKvRow } from './kv-format.js';
import { quantize } from './quantize.js';
import { sliceStageWeights } from './slice.js';
import { QuantStage } from './stage.js';
import { runTrace } from './trace.test-helper.js';

const ck = stories260K();
const q8 = quantize(ck, { weights: 'q8', groupSize: 32 });
const tokens = Array.from({ length: 48 }, (_, i) => (i * 29 + 1) % ck.config.vocabSize);

/** Logits bytes of every position of `tokens`. */
function logitsOf(engine: QuantEngine): Buffer[] {
  return tokens.map((t, pos) => Buffer.from(bits(engine.forward(t, pos))));
}

describe('QuantEngine kv option', () => {
  it('fp32 by default and bit-identical to it; fp16 and int8 give other logits, each its own', () => {
    const plain = QuantEngine.fromModel(q8, { kernels: 'js' });
    expect(plain.kv).toBe('fp32');
    const runs = Object.fromEntries(
      KV_FORMATS.map((kv) => [kv, logitsOf(QuantEngine.fromModel(q8, { kernels: 'js', kv }))]),
    ) as Record<KvFormat, Buffer[]>;
    const reference = logitsOf(plain);
    expect(runs.fp32.every((b, i) => b.equals(reference[i]!))).toBe(true);
    for (const kv of ['fp16', 'int8'] as const) {
      // position 0 attends to itself only (softmax of one score is 1), later positions see rounded keys
      const differ = runs[kv].filter((b, i) => !b.equals(reference[i]!)).length;
      expect(differ, kv).toBeGreaterThan(tokens.length / 2);
    }
    expect(runs.fp16.filter((b, i) => !b.equals(runs.int8[i]!)).length).toBeGreaterThan(tokens.length / 2);
    // and the quantized cache costs little: the same greedy choice nearly everywhere
    const argmax = (b: Buffer) => {
      const x = new Float32Array(b.buffer, b.byteOffset, b.length / 4);
      return x.indexOf(Math.max(...x));
    };
    const agree = runs.int8.filter((b, i) => argmax(b) === argmax(reference[i]!)).length;
    expect(agree).toBeGreaterThan(tokens.length * 0.8);
  });

  it('stores the read-back values: the cache rows are read(store(k)), read(store(v)) of the format', () => {
    const c = ck.config;
    const kvDim = (c.dim * c.nKvHeads) / c.nHeads;
    const hs = c.dim / c.nHeads;
    for (const kv of ['fp16', 'int8'] as const) {
      const cache = new StageKvCache(c, 2, kv);
      const { k, v } = cache.rows(1, 3);
      const k0 = Float32Array.from({ length: kvDim }, (_, i) => Math.fround(Math.sin(i) * 3.3));
      const v0 = Float32Array.from({ length: kvDim }, (_, i) => Math.fround(Math.cos(i * 0.7) / 7));
      k.set(k0);
      v.set(v0);
      cache.store(1, 3, k, v);
      const at = (1 * c.seqLen + 3) * kvDim;
      expect(bits(cache.keys.subarray(at, at + kvDim))).toEqual(bits(readKvRow(storeKvRow(kv, k0, hs), hs)));
      expect(bits(cache.values.subarray(at, at + kvDim))).toEqual(
        bits(readKvRow(storeKvRow(kv, v0, hs), hs)),
      );
      expect(bits(cache.keys.subarray(at, at + kvDim))).not.toEqual(bits(k0));
    }
  });

  it('refuses weights built for one format run with another, and stages of mixed formats', () => {
    const whole = sliceStageWeights(q8, { layers: [0, 5], embedding: true, classifier: true });
    expect(new QuantStage({ ...whole, kv: 'int8' }).kv).toBe('int8');
    expect(() => new QuantStage({ ...whole, kv: 'int8' }, { kv: 'fp16' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/int8.*fp16/) }),
    );
    const a = sliceStageWeights(q8, { layers: [0, 2], embedding: true, classifier: false });
    const b = sliceStageWeights(q8, { layers: [2, 5], embedding: false, classifier: true });
    expect(() => new QuantEngine([{ ...a, kv: 'fp16' }, b], { warmUp: false })).toThrow(
      expect.objectContaining({ code: 'IMAGE_MISMATCH', message: expect.stringMatching(/fp16, fp32/) }),
    );
    expect(
      new QuantEngine(
        [
          { ...a, kv: 'fp16' },
          { ...b, kv: 'fp16' },
        ],
        { warmUp: false },
      ).kv,
    ).toBe('fp16');
  });
});

describe('KV formats: wasm = js bit for bit', () => {
  for (const kv of ['fp16', 'int8'] as const) {
    it(`${kv}: stories260K q8 and q4, split and vocab-split; logits bytes and layer hashes`, () => {
      for (const weights of ['q8', 'q4'] as const) {
        const qm = weights === 'q8' ? q8 : quantize(ck, { weights, groupSize: 32 });
        const js = QuantEngine.fromModel(qm, { kernels: 'js', layerHashes: true, kv });
        const wasm = QuantEngine.fromModel(qm, { split: [2, 3], classifierSlices: 2, layerHashes: true, kv });
        expect([js.kernels, wasm.kernels, wasm.kv]).toEqual(['js', 'wasm', kv]);
        tokens.forEach((t, pos) => {
          const a = Float32Array.from(js.forward(t, pos));
          expect(bits(wasm.forward(t, pos)).equals(bits(a)), `${weights} pos ${pos}`).toBe(true);
          expect(wasm.lastLayerHashes()).toEqual(js.lastLayerHashes());
        });
      }
    });

    it(`${kv}: an odd shape (head size 6, GQA 6/3), group size 12`, () => {
      const qm = quantize(synthesize(ODD_SHAPE, 9), { weights: 'q4', groupSize: 12 });
      const js = QuantEngine.fromModel(qm, { kernels: 'js', kv });
      const wasm = QuantEngine.fromModel(qm, { kv });
      expect(wasm.kernels).toBe('wasm');
      for (let pos = 0; pos < ODD_SHAPE.seqLen; pos++) {
        const t = (pos * 5 + 3) % ODD_SHAPE.vocabSize;
        const a = Float32Array.from(js.forward(t, pos));
        expect(bits(wasm.forward(t, pos)).equals(bits(a)), `pos ${pos}`).toBe(true);
      }
    });
  }
});

describe('KV formats: every split equals the unsplit run', () => {
  /** Every composition of n into positive parts: all 2^(n-1) contiguous layouts. */
  const compositions = (n: number): number[][] =>
    n === 0
      ? [[]]
      : Array.from({ length: n }, (_, i) => compositions(n - i - 1).map((r) => [i + 1, ...r])).flat();
  const layouts = compositions(ck.config.nLayers);
  for (const kv of KV_FORMATS) {
    it(`${kv}: stories260K q4, greedy and top-p, 128 steps, ${layouts.length} layouts + vocab-split classifiers`, () => {
      const qm = quantize(ck, { weights: 'q4', groupSize: 32 });
      for (const temperature of [0, 1]) {
        const reference = runTrace(qm, [5], 1, 128, temperature, { kv });
        expect(new Set(reference.tokens).size).toBeGreaterThan(5);
        expect(layouts.length).toBe(16);
        for (const split of layouts) {
          const got = runTrace(qm, split, Math.min(split.length, 3), 128, temperature, { kv });
          const label = `${kv} t ${temperature} [${split}]`;
          expect(got.tokens, label).toEqual(reference.tokens);
          expect(got.logits, label).toBe(reference.logits);
          expect(got.hashes, label).toEqual(reference.hashes);
        }
        if (kv !== 'fp32')
          expect(runTrace(qm, [5], 1, 128, temperature).logits, `${kv} is not fp32`).not.toBe(
            reference.logits,
          );
      }
    });
  }
});
