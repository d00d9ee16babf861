import { describe, expect, it } from 'vitest';
import { bits, instance, ODD_SHAPE, rng, stories260K } from '../kernels/kernels.test-helper.js';
import { cols4, interleaveQuant } from '../kernels/layout.js';
import { KernelMemoryPlan } from '../kernels/wasm.js';
import { synthesize } from '../synth/synthesize.js';
import { QuantEngine } from './engine.js';
import { prepareMatrix, qmatmul, quantizedVector, quantizeVector } from './kernels.js';
import { quantize, quantizeMatrix } from './quantize.js';
import { softmaxQ } from './stage.js';

describe('quantized kernels: wasm qmatmul equals the JS qmatmul', () => {
  it('on 150 random shapes, q8 and q4, group sizes 4–64 (rows not a multiple of 4, short last groups)', () => {
    const r = rng(3);
    for (let c = 0; c < 150; c++) {
      const kind = c % 2 ? 'q4' : 'q8';
      const rows = r.int(1, 41);
      const cols = 2 * r.int(1, 60);
      const G = [4, 8, 12, 16, 32, 64][c % 6]!;
      const w = Float32Array.from({ length: rows * cols }, r.value);
      const m = prepareMatrix(quantizeMatrix(w, 0, rows, cols, kind, G));
      const x = Float32Array.from({ length: cols }, r.value);
      const xv = quantizedVector(cols, G);
      quantizeVector(x, cols, G, xv);
      const expected = new Float32Array(rows);
      qmatmul(expected, xv, m);

      const blocks = Math.ceil(rows / 4);
      const plan = new KernelMemoryPlan();
      const pw = plan.reserve(blocks * cols4(cols));
      const ps = plan.reserve(blocks * m.groups * 4);
      const px = plan.reserve(cols4(cols) / 2);
      const pxs = plan.reserve(m.groups);
      const po = plan.reserve(rows + 1);
      const k = instance(plan);
      interleaveQuant(k.int8(0, k.memory.buffer.byteLength), pw, k.f32, ps / 4, m);
      k.int16(px, cols).set(xv.q);
      k.view(pxs, m.groups).set(xv.s);
      const out = k.view(po, rows + 1);
      out[rows] = 777;
      k.qmatmul(pw, ps, px, pxs, po, cols4(cols), G, m.groups, rows);
      expect(bits(k.view(po, rows)).equals(bits(expected)), `${kind} ${rows}×${cols} G ${G}`).toBe(true);
      expect(out[rows], 'nothing written past the rows').toBe(777);
    }
  });

  it('QuantEngine wasm vs js: same logits bytes and layer hashes on stories260K q8/q4, split and vocab-split', () => {
    const ck = stories260K();
    const tokens = Array.from({ length: 40 }, (_, i) => (i * 29 + 1) % ck.config.vocabSize);
    for (const kind of ['q8', 'q4'] as const) {
      const qm = quantize(ck, { weights: kind, groupSize: 32 });
      const js = QuantEngine.fromModel(qm, { kernels: 'js', layerHashes: true });
      const wasm = QuantEngine.fromModel(qm, { split: [2, 3], classifierSlices: 2, layerHashes: true });
      expect(js.kernels).toBe('js');
      expect(wasm.kernels).toBe('wasm');
      tokens.forEach((t, pos) => {
        const a = Float32Array.from(js.forward(t, pos));
        const b = wasm.forward(t, pos);
        expect(bits(b).equals(bits(a)), `${kind} pos ${pos}`).toBe(true);
        expect(wasm.lastLayerHashes()).toEqual(js.lastLayerHashes());
      });
    }
  });

  it('QuantEngine on odd shapes and group sizes (12, 8; 6 falls back to js), wasm vs js', () => {
    const shape = ODD_SHAPE;
    const ck = synthesize(shape, 9);
    for (const groupSize of [12, 8, 6]) {
      const qm = quantize(ck, { weights: 'q4', groupSize });
      const js = QuantEngine.fromModel(qm, { kernels: 'js' });
      const wasm = QuantEngine.fromModel(qm);
      expect(wasm.kernels).toBe(groupSize % 4 === 0 ? 'wasm' : 'js');
      for (let pos = 0; pos < shape.seqLen; pos++) {
        const t = (pos * 5 + 3) % shape.vocabSize;
        const a = Float32Array.from(js.forward(t, pos));
        expect(bits(wasm.forward(t, pos)).equals(bits(a)), `G ${groupSize} pos ${pos}`).toBe(true);
      }
    }
  });

  it('softmax: the bytes of softmaxQ on random vectors of 1–70 values, some spanning 200 in range', () => {
    const r = rng(11);
    const plan = new KernelMemoryPlan();
    const at = plan.reserve(72);
    const k = instance(plan);
    for (let c = 0; c < 300; c++) {
      const n = r.int(1, 70);
      const spread = c % 3 === 0 ? 200 : 8;
      const x = Float32Array.from({ length: n }, () => Math.fround((r.value() * spread) / 64));
      const v = k.view(at, n);
      v.set(x);
      softmaxQ(x, n);
      k.softmaxSpec(at, n);
      expect(bits(v).equals(bits(x)), `n ${n}`).toBe(true);
    }
  });
});
