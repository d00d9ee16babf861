export { type KernelChoice, wasmKernelsSupported } from '../kernels/wasm.js';
export {
  Fp32Engine,
  type Fp32EngineOptions,
  type LogitsEngine,
  matmul,
  rmsnorm,
  softmax,
} from './fp32-engine.js';
