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
export { QuantStage, type QuantStageOptions, softmaxQ } from './stage.js';
export type { QuantizedModel, QuantKind, QuantLayer, QuantTensor, RopeTable, StageWeights } from './types.js';
