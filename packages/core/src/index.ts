/**
 * `@tinypipe/core` — the model: llama2.c checkpoints and tokenizer, the llama2.c sampler, the fp32
 * reference engine and streaming generation, quantization and the weight-image format. The wire protocol
 * and the error family are in `@tinypipe/protocol`; the host runtime that drives boards (`Pipeline`) in
 * `@tinypipe/pipeline`. Runs in Node and in browsers; file-system helpers live in `@tinypipe/core/node`.
 */
export * from './checkpoint/index.js';
export * from './engine/index.js';
export { CORE_ERROR_CODES, type CoreErrorCodes } from './errors/codes.js';
export * from './eval/index.js';
export * from './fingerprint/index.js';
export * from './generate/index.js';
export * from './image/index.js';
export * from './numerics/index.js';
export * from './quant/index.js';
export * from './sampler/index.js';
export * from './synth/index.js';
export * from './tokenizer/index.js';
