import { describe, expect, it } from 'vitest';
import { bits, ODD_SHAPE, stories260K } from '../kernels/kernels.test-helper.js';
import { synthesize } from '../synth/synthesize.js';
import { Fp32Engine } from './fp32-engine.js';

describe('Fp32Engine: kernels wasm and js give the same bytes', () => {
  it('runs wasm by default here (Node has WebAssembly SIMD) and js when asked', () => {
    expect(new Fp32Engine(synthesize('260K', 1), { kernels: 'js' }).kernels).toBe('js');
    expect(new Fp32Engine(synthesize('260K', 1)).kernels).toBe('wasm');
  });

  const run = (e: Fp32Engine, tokens: number[]) =>
    tokens.map((t, pos) => Float32Array.from(e.forward(t, pos)));

  it('stories260K (hidden 172 = 10·16 + 12, head size 8, GQA 8/4), 96 positions', () => {
    const ck = stories260K();
    const tokens = Array.from({ length: 96 }, (_, i) => (i * 37 + 1) % ck.config.vocabSize);
    const a = run(new Fp32Engine(ck, { kernels: 'js' }), tokens);
    const b = run(new Fp32Engine(ck, { kernels: 'wasm' }), tokens);
    a.forEach((l, pos) => {
      expect(bits(b[pos]!).equals(bits(l)), `pos ${pos}`).toBe(true);
    });
  });

  it('odd synthetic shapes (head size 6 and 5, rows and vocab not multiples of 16), split by layers too', () => {
    const shapes = [
      ODD_SHAPE,
      {
        dim: 20,
        hiddenDim: 33,
        nLayers: 3,
        nHeads: 4,
        nKvHeads: 4,
        vocabSize: 17,
        seqLen: 9,
        sharedClassifier: true,
      },
    ];
    for (const [i, shape] of shapes.entries()) {
      const ck = synthesize(shape, 40 + i);
      const tokens = Array.from({ length: shape.seqLen }, (_, p) => (p * 5 + 2) % shape.vocabSize);
      const a = run(new Fp32Engine(ck, { kernels: 'js' }), tokens);
      const wasm = new Fp32Engine(ck, { kernels: 'wasm' });
      tokens.forEach((t, pos) => {
        const x = wasm.embed(t);
        wasm.forwardLayers(x, pos, 0, 1);
        wasm.forwardLayers(x, pos, 1, shape.nLayers);
        expect(bits(wasm.classify(x)).equals(bits(a[pos]!)), `shape ${i} pos ${pos}`).toBe(true);
      });
    }
  });
});
