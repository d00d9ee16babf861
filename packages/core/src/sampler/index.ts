export { Xorshift64Star } from './rng.js';
export { argmax, Sampler, type SamplerOptions, softmaxF32, validateSamplerOptions } from './sampler.js';
