/** Shared by the kernel tests (kernels/, engine/, quant/): reproducible inputs, models and byte views. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readCheckpoint } from '../checkpoint/read.js';
import type { Checkpoint, ModelConfig } from '../checkpoint/types.js';
import type { KernelMemoryPlan, WasmKernels } from './wasm.js';

/** The bundled stories260K checkpoint (hidden 172 = 10·16 + 12, head size 8, GQA 8/4). */
export function stories260K(): Checkpoint {
  return readCheckpoint(
    new Uint8Array(
      readFileSync(fileURLToPath(new URL('../../../../models/stories260K.bin', import.meta.url))),
    ),
  );
}

/** A shape the SIMD paths find awkward: head size 6, GQA 6/3, rows and vocab not multiples of 16. */
export const ODD_SHAPE: ModelConfig = {
  dim: 36,
  hiddenDim: 50,
  nLayers: 2,
  nHeads: 6,
  nKvHeads: 3,
  vocabSize: 37,
  seqLen: 11,
  sharedClassifier: false,
};

/** The bytes of a Float32Array (what "the same bytes" compares). */
export const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** xorshift32: reproducible values of mixed sign and magnitude (rounding differs between sum orders). */
export function rng(seed: number) {
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

export function instance(plan: KernelMemoryPlan): WasmKernels {
  const k = plan.instantiate();
  if (!k) throw new Error('WebAssembly SIMD is not available in this Node');
  return k;
}
