export {
  type EvaluateAsyncOptions,
  type EvaluateOptions,
  type EvaluateReport,
  evaluate,
  evaluateAsync,
} from './evaluate.js';
