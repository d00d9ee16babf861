export {
  type Checkpoint,
  type CheckpointVersion,
  headSize,
  kvDim,
  type ModelConfig,
  type ModelWeights,
  parameterCount,
  tensorSizes,
} from './types.js';
