/** Shared by the kernel tests (kernels/, engine/, quant/): reproducible inputs and byte views. */
import type { KernelMemoryPlan, WasmKernels } from './wasm.js';

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
