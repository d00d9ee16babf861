export type { ComparePair } from './compare.js';
export {
  type EvaluateAsyncOptions,
  type EvaluateOptions,
  type EvaluateReport,
  evaluate,
  evaluateAsync,
  evaluateEnginesAsync,
} from './evaluate.js';
