export { type EvaluateOptions, type EvaluateReport, evaluate } from './evaluate.js';
