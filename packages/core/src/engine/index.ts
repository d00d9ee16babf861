export { Fp32Engine, type LogitsEngine, matmul, rmsnorm, softmax } from './fp32-engine.js';
