export { QuantEngine, type QuantEngineOptions, type SplitOptions, splitSelections } from './engine.js';
export {
  dequantizeRow,
  type PreparedMatrix,
  prepareMatrix,
  type QuantizedVector,
  qmatmul,
  quantizedVector,
  quantizeVector,
} from './kernels.js';
export { type KvRow, kvBytesPerPosition, kvRoundTrip, readKvRow, storeKvRow } from './kv-format.js';
export {
  dequantize,
  packInt4,
  QMAX,
  type QuantizeOptions,
  quantize,
  quantizeMatrix,
  ropeTable,
  unpackInts,
} from './quantize.js';
export { sliceStageWeights as sliceStage } from './slice.js';
export { QuantStage, type QuantStageOptions, softmaxQ } from './stage.js';
export {
  MAX_GROUP_SIZE,
  type QuantizedModel,
  type QuantKind,
  type QuantLayer,
  type QuantTensor,
  type RopeTable,
  type StageSelection,
  type StageWeights,
} from './types.js';
