export { Xorshift64Star } from './rng.js';
export { argmax, Sampler, type SamplerOptions, softmaxF32, validateSamplerOptions } from './sampler.js';
export {
  BUCKET_SHIFT,
  bucketOf,
  bucketUnitShift,
  type SlicedRounds,
  SlicedSampler,
  type SliceHistogram,
  type SliceMax,
  type SlicePort,
  SliceSampling,
  TOP_BUCKET,
  units149,
} from './sliced.js';
