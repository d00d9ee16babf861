/**
 * The WebAssembly SIMD kernels against the JavaScript reference (reference.ts, numerics/exp.ts): the same
 * bytes (Float32Array contents) on random shapes, including sizes that straddle the SIMD widths (rows not
 * a multiple of 16, columns and head sizes not a multiple of 4, position counts not a multiple of 4 or 8).
 * The engines are compared whole in engine/fp32-wasm.test.ts and quant/wasm.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../checkpoint/types.js';
import { EXP_OVERFLOW, EXP_UNDERFLOW, expf32 } from '../numerics/exp.js';
import { attentionWasm, keyCacheLength, seqBlocks, storeKey } from './attention.js';
import { bits, instance, rng } from './kernels.test-helper.js';
import { interleave16, interleavedLength } from './layout.js';
import { attention, matmul, softmax } from './reference.js';
import { compileKernels, KernelMemoryPlan, kernelBytes, wasmKernelsSupported } from './wasm.js';

describe('WebAssembly SIMD kernels', () => {
  it('load in this Node (WebAssembly SIMD present); bytes a runtime cannot validate fall back to JS', () => {
    expect(wasmKernelsSupported()).toBe(true);
    const bad = kernelBytes().slice();
    bad[bad.length - 1] = 0xff; // the last function's `end` opcode destroyed
    expect(compileKernels(bad)).toBeNull();
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

describe('the spec exp in wasm (docs/numerics.md §5)', () => {
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
});
