/**
 * Loads the WebAssembly SIMD kernels (kernels.wat, embedded as base64 by scripts/build-kernels.ts):
 * compiled once per process, instantiated once per engine over a memory that engine sizes once.
 * Where WebAssembly or its fixed-width SIMD is missing (old browsers, some embedded runtimes),
 * `wasmKernelsSupported()` is false and the engines run the JavaScript path — the same bits, slower.
 */
import { KERNELS_WASM_BASE64 } from './kernels-wasm.generated.js';

/** Which kernels an engine runs: `'wasm'` (WebAssembly SIMD) or `'js'` (the reference). */
export type KernelChoice = 'wasm' | 'js';

interface Exports {
  matmul(w: number, x: number, out: number, n: number, d: number): void;
  scores(q: number, k: number, att: number, hs: number, nt: number, scale: number): void;
  values(att: number, v: number, out: number, hs: number, nt: number, stride: number): void;
  divide(x: number, n: number, d: number): void;
  expf32(x: number): number;
  softmax_spec(x: number, n: number): void;
  swiglu_spec(v: number, u: number, n: number): void;
  qmatmul(
    w: number,
    ws: number,
    x16: number,
    xs: number,
    out: number,
    n4: number,
    groupSize: number,
    groups: number,
    d: number,
  ): void;
}

let compiled: WebAssembly.Module | null | undefined;
let warmedUp = false;

function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Compiles module bytes, or null when this runtime cannot: no WebAssembly, or bytes it does not
 * validate (a runtime without fixed-width SIMD rejects every v128 instruction).
 */
export function compileKernels(bytes: Uint8Array<ArrayBuffer>): WebAssembly.Module | null {
  try {
    if (typeof WebAssembly !== 'object' || !WebAssembly.validate(bytes)) return null;
    return new WebAssembly.Module(bytes);
  } catch {
    return null;
  }
}

/** The embedded kernels' bytes (kernels.wat assembled). */
export function kernelBytes(): Uint8Array<ArrayBuffer> {
  return decodeBase64(KERNELS_WASM_BASE64);
}

/** The compiled kernels, once per process, or null when this runtime cannot run them. */
function kernelModule(): WebAssembly.Module | null {
  if (compiled === undefined) compiled = compileKernels(kernelBytes());
  return compiled;
}

/** True when this runtime validates and compiles the SIMD kernels. */
export function wasmKernelsSupported(): boolean {
  return kernelModule() !== null;
}

/** `'wasm'` when supported, else `'js'`; an explicit choice is kept (`'wasm'` unsupported → `'js'`). */
export function resolveKernels(choice: KernelChoice | undefined): KernelChoice {
  if (choice === 'js') return 'js';
  return wasmKernelsSupported() ? 'wasm' : 'js';
}

const PAGE = 65536;
/** Bytes [0, 64) are the kernels' scratch (a partial matmul block). */
const RESERVED = 64;

/**
 * Plans a memory: `reserve` hands out 16-byte-aligned float offsets; `instantiate` then creates the
 * memory once (it never grows, so views stay valid) and the instance over it.
 */
export class KernelMemoryPlan {
  #bytes = RESERVED;

  /** Reserves `n` floats; returns the byte offset. */
  reserve(n: number): number {
    const at = this.#bytes;
    this.#bytes += Math.ceil((n * 4) / 16) * 16;
    return at;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /**
   * The instance, or null when unsupported, when the plan exceeds 4 GiB of wasm32 memory, or when the
   * runtime cannot allocate it (the engines then run the JS path).
   */
  instantiate(): WasmKernels | null {
    const module = kernelModule();
    const pages = Math.ceil(this.#bytes / PAGE);
    if (!module || pages > 65536) return null;
    let memory: WebAssembly.Memory;
    let instance: WebAssembly.Instance;
    try {
      memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
      instance = new WebAssembly.Instance(module, { env: { memory } });
    } catch {
      return null; // the runtime refused the memory (a browser tab's limit): the JS path has no such copy
    }
    const k = new WasmKernels(memory, instance.exports as unknown as Exports);
    if (!warmedUp) {
      k.warmUp();
      warmedUp = true;
    }
    return k;
  }
}

/** The kernels over one memory. Pointers are byte offsets in that memory. */
export class WasmKernels {
  readonly memory: WebAssembly.Memory;
  readonly f32: Float32Array;
  readonly matmul: Exports['matmul'];
  readonly scores: Exports['scores'];
  readonly values: Exports['values'];
  readonly divide: Exports['divide'];
  readonly qmatmul: Exports['qmatmul'];
  /** docs/numerics.md §5's exp (the reference: numerics/exp.ts `expf32`). */
  readonly expf32: Exports['expf32'];
  /** docs/numerics.md §6's softmax in place (the reference: quant/stage.ts `softmaxQ`). */
  readonly softmaxSpec: Exports['softmax_spec'];
  /** docs/numerics.md §6's SwiGLU into v (the reference: the loop in quant/stage.ts). */
  readonly swigluSpec: Exports['swiglu_spec'];

  constructor(memory: WebAssembly.Memory, e: Exports) {
    this.memory = memory;
    this.f32 = new Float32Array(memory.buffer);
    this.matmul = e.matmul;
    this.scores = e.scores;
    this.values = e.values;
    this.divide = e.divide;
    this.qmatmul = e.qmatmul;
    this.expf32 = e.expf32;
    this.softmaxSpec = e.softmax_spec;
    this.swigluSpec = e.swiglu_spec;
  }

  /** An Int8Array of `n` bytes at byte offset `ptr`. */
  int8(ptr: number, n: number): Int8Array {
    return new Int8Array(this.memory.buffer, ptr, n);
  }

  /** An Int16Array of `n` values at byte offset `ptr`. */
  int16(ptr: number, n: number): Int16Array {
    return new Int16Array(this.memory.buffer, ptr, n);
  }

  /** A Float32Array of `n` floats at byte offset `ptr`. */
  view(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }

  /**
   * Runs every kernel a few hundred times on the scratch bytes, once per process, so the first token
   * does not pay for tier-up to optimised code (the compiled code is shared by every instance).
   */
  warmUp(): void {
    const saved = this.f32.slice(0, 16);
    this.f32.fill(0, 0, 16);
    for (let r = 0; r < 300; r++) {
      this.matmul(0, 0, 0, 1, 1);
      this.scores(0, 0, 0, 1, 1, 1);
      this.values(0, 0, 0, 1, 1, 4);
      this.divide(0, 4, 1);
      this.qmatmul(0, 0, 0, 0, 0, 4, 4, 1, 1);
      this.softmaxSpec(0, 4);
      this.swigluSpec(0, 16, 4);
    }
    this.f32.set(saved, 0);
  }
}
