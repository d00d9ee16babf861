export {
  CHECKPOINT_MAGIC,
  type CheckpointLayout,
  checkpointLayout,
  type TensorName,
  type TensorSpan,
  V0_WEIGHT_ORDER,
} from './layout.js';
export { readCheckpoint } from './read.js';
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
export { type WriteCheckpointOptions, writeCheckpoint } from './write.js';
