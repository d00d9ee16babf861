import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { writeCheckpoint } from '../checkpoint/write.js';
import { codeOf } from '../errors/code-of.test-helper.js';
import { synthesize } from '../synth/synthesize.js';
import { Fp32Engine } from './fp32-engine.js';

const checkpoint = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url)))),
);
const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

describe('Fp32Engine', () => {
  it('forward == embed + forwardLayers + classify, split at every layer boundary, bit for bit', () => {
    const tokens = [1, 403, 407, 261, 378, 300, 12];
    const whole = new Fp32Engine(checkpoint);
    const expected = tokens.map((t, pos) => Float32Array.from(whole.forward(t, pos)));
    const L = checkpoint.config.nLayers;
    for (let cut = 0; cut <= L; cut++) {
      const split = new Fp32Engine(checkpoint);
      tokens.forEach((t, pos) => {
        const x = split.embed(t);
        split.forwardLayers(x, pos, 0, cut);
        split.forwardLayers(x, pos, cut, L);
        expect(bits(split.classify(x)).equals(bits(expected[pos]!)), `cut ${cut} pos ${pos}`).toBe(true);
      });
    }
  });

  it('gives identical logits from the v0 file and its v1 re-export', () => {
    const v0 = new Fp32Engine(checkpoint);
    const v1 = new Fp32Engine(readCheckpoint(writeCheckpoint(checkpoint, { version: 1 })));
    [1, 317, 269, 274].forEach((t, pos) => {
      expect(bits(v1.forward(t, pos)).equals(bits(v0.forward(t, pos)))).toBe(true);
    });
  });

  it('handles grouped-query attention and an unshared classifier (synthetic shape)', () => {
    const ck = synthesize(
      {
        dim: 32,
        hiddenDim: 64,
        nLayers: 2,
        nHeads: 4,
        nKvHeads: 2,
        vocabSize: 40,
        seqLen: 8,
        sharedClassifier: false,
      },
      5,
    );
    const e = new Fp32Engine(ck);
    for (let pos = 0; pos < 8; pos++) {
      const logits = e.forward(pos + 3, pos);
      expect(logits.length).toBe(40);
      expect(logits.every(Number.isFinite)).toBe(true);
    }
  });

  it('rejects bad tokens, positions and layer ranges with their codes', () => {
    const e = new Fp32Engine(checkpoint);
    expect(codeOf(() => e.forward(512, 0))).toBe('TOKEN_OUT_OF_RANGE');
    expect(codeOf(() => e.forward(-1, 0))).toBe('TOKEN_OUT_OF_RANGE');
    expect(codeOf(() => e.forward(1.5, 0))).toBe('TOKEN_OUT_OF_RANGE');
    expect(codeOf(() => e.forward(1, 512))).toBe('POSITION_OUT_OF_RANGE');
    expect(codeOf(() => e.forward(1, -1))).toBe('POSITION_OUT_OF_RANGE');
    expect(codeOf(() => e.forwardLayers(new Float32Array(64), 0, 3, 2))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => e.forwardLayers(new Float32Array(64), 0, 0, 6))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => e.forwardLayers(new Float32Array(63), 0, 0, 1))).toBe('INVALID_ARGUMENT');
  });
});
