import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha256';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import type { Checkpoint, ModelConfig, ModelWeights } from '../checkpoint/types.js';
import { tensorSizes } from '../checkpoint/types.js';
import { FINGERPRINT_BYTES, fingerprintHex, modelFingerprint, quantFingerprint } from './fingerprint.js';

const MODEL = new URL('../../../../models/stories260K.bin', import.meta.url);

/** A deliberately naive v0 parse (views into the file), independent of src/checkpoint. */
function parseV0(bytes: Uint8Array): { checkpoint: Checkpoint; weightBytes: Uint8Array } {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = Array.from({ length: 7 }, (_, i) => dv.getInt32(i * 4, true));
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, rawVocab, seqLen] = h as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const config: ModelConfig = {
    dim,
    hiddenDim,
    nLayers,
    nHeads,
    nKvHeads,
    vocabSize: Math.abs(rawVocab),
    seqLen,
    sharedClassifier: rawVocab > 0,
  };
  expect(config.sharedClassifier).toBe(true); // stories260K shares its classifier
  const sizes = tensorSizes(config);
  const copy = bytes.slice(28); // aligned copy of the float region
  const f = new Float32Array(copy.buffer, 0, copy.byteLength >> 2);
  let at = 0;
  const take = (n: number): Float32Array => {
    const v = f.subarray(at, at + n);
    at += n;
    return v;
  };
  const tokenEmbedding = take(sizes.tokenEmbedding);
  const w = {
    tokenEmbedding,
    rmsAtt: take(sizes.rmsAtt),
    wq: take(sizes.wq),
    wk: take(sizes.wk),
    wv: take(sizes.wv),
    wo: take(sizes.wo),
    rmsFfn: take(sizes.rmsFfn),
    w1: take(sizes.w1),
    w2: take(sizes.w2),
    w3: take(sizes.w3),
    rmsFinal: take(sizes.rmsFinal),
    wcls: tokenEmbedding,
  } satisfies ModelWeights;
  // Every weight precedes freq_cis in a v0 file: the canonical tensor bytes are one file slice.
  const weightBytes = bytes.subarray(28, 28 + at * 4);
  return { checkpoint: { config, weights: w, source: { version: 0 } }, weightBytes };
}

function canonicalHeader(c: ModelConfig): Uint8Array {
  const dv = new DataView(new ArrayBuffer(40));
  const ints = [0x70667074, 1, c.dim, c.hiddenDim, c.nLayers, c.nHeads, c.nKvHeads, c.vocabSize, c.seqLen];
  for (const [i, v] of ints.entries()) dv.setInt32(i * 4, v, true);
  dv.setInt32(36, c.sharedClassifier ? 1 : 0, true);
  return new Uint8Array(dv.buffer);
}

function tinyModel(shared: boolean): Checkpoint {
  const config: ModelConfig = {
    dim: 8,
    hiddenDim: 12,
    nLayers: 2,
    nHeads: 2,
    nKvHeads: 1,
    vocabSize: 5,
    seqLen: 4,
    sharedClassifier: shared,
  };
  const s = tensorSizes(config);
  let k = 0;
  const fill = (n: number) => Float32Array.from({ length: n }, () => ((k++ * 7919) % 113) / 113 - 0.5);
  const tokenEmbedding = fill(s.tokenEmbedding);
  return {
    config,
    source: { version: 1 },
    weights: {
      tokenEmbedding,
      rmsAtt: fill(s.rmsAtt),
      wq: fill(s.wq),
      wk: fill(s.wk),
      wv: fill(s.wv),
      wo: fill(s.wo),
      rmsFfn: fill(s.rmsFfn),
      w1: fill(s.w1),
      w2: fill(s.w2),
      w3: fill(s.w3),
      rmsFinal: fill(s.rmsFinal),
      wcls: shared ? tokenEmbedding : fill(config.vocabSize * config.dim),
    },
  };
}

describe('modelFingerprint', () => {
  it('is SHA-256 of the canonical header followed by the v0 weight bytes (stories260K)', () => {
    const file = new Uint8Array(readFileSync(MODEL));
    const { checkpoint, weightBytes } = parseV0(file);
    const expected = sha256.create().update(canonicalHeader(checkpoint.config)).update(weightBytes).digest();
    const fp = modelFingerprint(checkpoint);
    expect(fp).toHaveLength(FINGERPRINT_BYTES);
    expect(fingerprintHex(fp)).toBe(fingerprintHex(expected));
  });

  it('hashes wcls after rms_final only when the classifier is not shared', () => {
    const ck = tinyModel(false);
    const w = ck.weights;
    const h = sha256.create().update(canonicalHeader(ck.config));
    for (const t of [w.tokenEmbedding, w.rmsAtt, w.wq, w.wk, w.wv, w.wo, w.rmsFfn, w.w1, w.w2, w.w3]) {
      h.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    }
    h.update(new Uint8Array(w.rmsFinal.buffer)).update(new Uint8Array(w.wcls.buffer));
    expect(fingerprintHex(modelFingerprint(ck))).toBe(fingerprintHex(h.digest()));
  });

  it('changes when one weight bit, the shape or the sharing flag changes', () => {
    const base = tinyModel(true);
    const fp = fingerprintHex(modelFingerprint(base));
    const w1 = base.weights.w1.slice();
    w1[17] = -(w1[17] as number);
    expect(fingerprintHex(modelFingerprint({ ...base, weights: { ...base.weights, w1 } }))).not.toBe(fp);
    const longer = { ...base, config: { ...base.config, seqLen: 8 } };
    expect(fingerprintHex(modelFingerprint(longer))).not.toBe(fp);
    // Same bytes for wcls as the embedding, but stored separately: a different model file.
    const unshared: Checkpoint = {
      ...base,
      config: { ...base.config, sharedClassifier: false },
      weights: { ...base.weights, wcls: base.weights.tokenEmbedding.slice() },
    };
    expect(fingerprintHex(modelFingerprint(unshared))).not.toBe(fp);
  });

  it('does not depend on where the arrays live (views vs copies)', () => {
    const ck = tinyModel(false);
    const copied = Object.fromEntries(
      Object.entries(ck.weights).map(([k, v]) => {
        const big = new Float32Array(v.length + 3);
        big.set(v, 3);
        return [k, big.subarray(3)];
      }),
    ) as unknown as ModelWeights;
    expect(modelFingerprint({ ...ck, weights: copied })).toEqual(modelFingerprint(ck));
  });

  it('refuses a tensor whose length disagrees with the config', () => {
    const ck = tinyModel(true);
    const bad = { ...ck, weights: { ...ck.weights, wk: ck.weights.wk.subarray(1) } };
    expect(() => modelFingerprint(bad)).toThrow(TinypipeError);
    try {
      modelFingerprint(bad);
    } catch (e) {
      expect(TinypipeError.hasCode(e, 'INVALID_ARGUMENT')).toBe(true);
      expect((e as TinypipeError).message).toMatch(/wk has 63 values, expected 64/);
    }
  });
});

describe('quantFingerprint', () => {
  it('is SHA-256 of "tpqf", 1, the model fingerprint, quant_bits and group_size; q4 and q8 (and groups) differ', async () => {
    const { quantize } = await import('../quant/quantize.js');
    const ck = tinyModel(true);
    const model = modelFingerprint(ck);
    const stream = new Uint8Array(48);
    const v = new DataView(stream.buffer);
    v.setUint32(0, 0x66717074, true); // bytes "tpqf"
    v.setUint32(4, 1, true);
    stream.set(model, 8);
    v.setUint32(40, 8, true);
    v.setUint32(44, 32, true);
    expect(String.fromCharCode(...stream.subarray(0, 4))).toBe('tpqf');
    expect(fingerprintHex(quantFingerprint(model, 'q8', 32))).toBe(fingerprintHex(sha256(stream)));
    const q8 = fingerprintHex(quantize(ck, { weights: 'q8', groupSize: 32 }).fingerprint);
    expect(q8).toBe(fingerprintHex(sha256(stream)));
    const q4 = fingerprintHex(quantize(ck, { weights: 'q4', groupSize: 32 }).fingerprint);
    expect(q4).not.toBe(q8);
    expect(fingerprintHex(quantFingerprint(model, 'q8', 16))).not.toBe(q8);
    expect([q4, q8]).not.toContain(fingerprintHex(model));
  });
});
