/**
 * The WebAssembly SIMD kernels against the JavaScript reference: the same bytes (Float32Array contents)
 * on random shapes, including sizes that straddle the SIMD widths (rows not a multiple of 16, columns
 * and head sizes not a multiple of 4, position counts not a multiple of 4 or 8).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import type { ModelConfig } from '../checkpoint/types.js';
import { Fp32Engine, softmax } from '../engine/fp32-engine.js';
import { EXP_OVERFLOW, EXP_UNDERFLOW, expf32 } from '../numerics/exp.js';
import { QuantEngine } from '../quant/engine.js';
import { prepareMatrix, qmatmul, quantizedVector, quantizeVector } from '../quant/kernels.js';
import { quantize, quantizeMatrix } from '../quant/quantize.js';
import { softmaxQ } from '../quant/stage.js';
import { synthesize } from '../synth/synthesize.js';
import { attentionWasm, keyCacheLength, seqBlocks, storeKey } from './attention.js';
import { attention, cols4, interleave16, interleavedLength, interleaveQuant, matmul } from './reference.js';
import {
  compileKernels,
  KernelMemoryPlan,
  kernelBytes,
  type WasmKernels,
  wasmKernelsSupported,
} from './wasm.js';

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** xorshift32: reproducible values of mixed sign and magnitude (rounding differs between sum orders). */
function rng(seed: number) {
  let s = seed >>> 0 || 1;
  const u = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
  return {
    int: (lo: number, hi: number) => lo + Math.floor(u() * (hi - lo + 1)),
    value: () => Math.fround((u() * 2 - 1) * 2 ** Math.floor(u() * 12 - 6)),
  };
}

function instance(plan: KernelMemoryPlan): WasmKernels {
  const k = plan.instantiate();
  if (!k) throw new Error('WebAssembly SIMD is not available in this Node');
  return k;
}

describe('WebAssembly SIMD kernels', () => {
  it('load in this Node (WebAssembly SIMD present); bytes a runtime cannot validate fall back to JS', () => {
    expect(wasmKernelsSupported()).toBe(true);
    const bad = kernelBytes().slice();
    bad[bad.length - 1] = 0xff; // the last function's `end` opcode destroyed
    expect(compileKernels(bad)).toBeNull();
    expect(new Fp32Engine(synthesize('260K', 1), { kernels: 'js' }).kernels).toBe('js');
    expect(new Fp32Engine(synthesize('260K', 1)).kernels).toBe('wasm');
  });

  it('stay under 4 KB, so `new WebAssembly.Module` compiles them synchronously even where Chrome limited that', () => {
    expect(kernelBytes().length).toBeLessThan(4096);
  });

  it('matmul: every row equals the JS matmul bit for bit (200 random shapes, d and n straddling 16 and 4)', () => {
    const r = rng(19);
    const edges = [1, 2, 3, 4, 5, 15, 16, 17, 31, 32, 33, 47, 48, 49, 64, 65];
    let orderMatters = 0;
    for (let c = 0; c < 200; c++) {
      const n = c < edges.length ? edges[c]! : r.int(1, 97);
      const d = c < edges.length ? edges[(c * 7) % edges.length]! : r.int(1, 97);
      const w = Float32Array.from({ length: n * d + 3 }, r.value);
      const x = Float32Array.from({ length: n }, r.value);
      const plan = new KernelMemoryPlan();
      const pw = plan.reserve(interleavedLength(n, d));
      const px = plan.reserve(n);
      const po = plan.reserve(d + 1);
      const k = instance(plan);
      interleave16(k.f32, pw / 4, w, 3, n, d);
      k.view(px, n).set(x);
      const sentinel = k.view(po, d + 1);
      sentinel[d] = 12345;
      k.matmul(pw, px, po, n, d);
      const expected = new Float32Array(d);
      matmul(expected, x, w, 3, n, d);
      expect(bits(k.view(po, d)).equals(bits(expected)), `n ${n} d ${d}`).toBe(true);
      expect(sentinel[d], 'nothing written past d').toBe(12345);
      // the inputs make summation order visible: a reversed sum of row 0 differs somewhere
      let rev = 0;
      for (let j = n - 1; j >= 0; j--) rev = Math.fround(rev + Math.fround(w[3 + j]! * x[j]!));
      if (rev !== expected[0]) orderMatters++;
    }
    expect(orderMatters).toBeGreaterThan(20);
  });

  it('attention (scores, softmax, values): equals attention() bit for bit on random shapes with GQA', () => {
    const r = rng(7);
    const headSizes = [1, 2, 3, 4, 5, 6, 8, 12, 16, 17, 20, 48];
    for (let c = 0; c < 60; c++) {
      const hs = headSizes[c % headSizes.length]!;
      const nKvHeads = r.int(1, 3);
      const nHeads = nKvHeads * r.int(1, 3);
      const seqLen = r.int(1, 19);
      const layers = r.int(1, 2);
      const config: ModelConfig = {
        dim: hs * nHeads,
        hiddenDim: 8,
        nLayers: layers,
        nHeads,
        nKvHeads,
        vocabSize: 4,
        seqLen,
        sharedClassifier: true,
      };
      const kv = hs * nKvHeads;
      const l = layers - 1;
      const plan = new KernelMemoryPlan();
      const at = {
        q: plan.reserve(config.dim),
        out: plan.reserve(config.dim),
        att: plan.reserve(seqBlocks(seqLen)),
        keys: plan.reserve(keyCacheLength(config, layers)),
        values: plan.reserve(layers * seqLen * kv),
        k: plan.reserve(kv),
      };
      const kern = instance(plan);
      const keyCache = kern.view(at.keys, keyCacheLength(config, layers));
      const valueCache = kern.view(at.values, layers * seqLen * kv);
      const refKeys = new Float32Array(layers * seqLen * kv);
      const refValues = new Float32Array(layers * seqLen * kv);
      const q = kern.view(at.q, config.dim);
      const out = kern.view(at.out, config.dim);
      for (let pos = 0; pos < seqLen; pos++) {
        const k = kern.view(at.k, kv);
        for (let i = 0; i < kv; i++) k[i] = r.value();
        const row = (l * seqLen + pos) * kv;
        refKeys.set(k, row);
        for (let i = 0; i < kv; i++) refValues[row + i] = valueCache[row + i] = r.value();
        storeKey(keyCache, k, config, l, pos);
        for (let i = 0; i < config.dim; i++) q[i] = r.value();
        const expected = new Float32Array(config.dim);
        attention(
          expected,
          q,
          refKeys,
          refValues,
          l * seqLen * kv,
          pos,
          config,
          new Float32Array(seqLen),
          softmax,
        );
        out.fill(Number.NaN);
        attentionWasm(
          kern,
          out,
          q,
          keyCache,
          valueCache,
          l,
          pos,
          config,
          kern.view(at.att, seqBlocks(seqLen)),
          (v) => Math.fround(Math.exp(v)),
        );
        expect(bits(out).equals(bits(expected)), `hs ${hs} heads ${nHeads}/${nKvHeads} pos ${pos}`).toBe(
          true,
        );
      }
    }
  });
});

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
    const ck = readCheckpoint(
      new Uint8Array(
        readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url))),
      ),
    );
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
    const shape = {
      dim: 36,
      hiddenDim: 50,
      nLayers: 2,
      nHeads: 6,
      nKvHeads: 3,
      vocabSize: 37,
      seqLen: 11,
      sharedClassifier: false,
    };
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
});

describe('the spec exp, softmax and SwiGLU in wasm (docs/numerics.md §5–§6)', () => {
  it('expf32: the bits of numerics/exp.ts on a sweep of [−110, 95], the boundaries and the specials', () => {
    const k = instance(new KernelMemoryPlan());
    const f = Math.fround;
    const next = (x: number, d: number) => {
      const b = new Float32Array([x]);
      const u = new Int32Array(b.buffer);
      u[0]! += d * (x >= 0 ? 1 : -1);
      return b[0]!;
    };
    const xs = [0, -0, 1, -1, Infinity, -Infinity, 1e-45, -1e-45, 88.5, -87.5, -100.5, 127.5 * Math.LN2];
    for (const b of [EXP_OVERFLOW, EXP_UNDERFLOW]) xs.push(b, next(b, 1), next(b, -1));
    for (let x = -110; x < 95; x += 0.00731) xs.push(f(x));
    const out = new Float32Array(2);
    for (const x of xs) {
      out[0] = expf32(x);
      out[1] = k.expf32(x);
      expect(new Uint32Array(out.buffer)[1], `expf32(${x})`).toBe(new Uint32Array(out.buffer)[0]);
    }
    expect(Number.isNaN(k.expf32(Number.NaN))).toBe(true);
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

describe('Fp32Engine: kernels wasm and js give the same bytes', () => {
  const run = (e: Fp32Engine, tokens: number[]) =>
    tokens.map((t, pos) => Float32Array.from(e.forward(t, pos)));

  it('stories260K (hidden 172 = 10·16 + 12, head size 8, GQA 8/4), 96 positions', () => {
    const ck = readCheckpoint(
      new Uint8Array(
        readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url))),
      ),
    );
    const tokens = Array.from({ length: 96 }, (_, i) => (i * 37 + 1) % ck.config.vocabSize);
    const a = run(new Fp32Engine(ck, { kernels: 'js' }), tokens);
    const b = run(new Fp32Engine(ck, { kernels: 'wasm' }), tokens);
    a.forEach((l, pos) => {
      expect(bits(b[pos]!).equals(bits(l)), `pos ${pos}`).toBe(true);
    });
  });

  it('odd synthetic shapes (head size 6 and 5, rows and vocab not multiples of 16), split by layers too', () => {
    const shapes = [
      {
        dim: 36,
        hiddenDim: 50,
        nLayers: 2,
        nHeads: 6,
        nKvHeads: 3,
        vocabSize: 37,
        seqLen: 11,
        sharedClassifier: false,
      },
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
