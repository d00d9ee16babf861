export {
  type CalibrateOptions,
  type CalibrateProgress,
  CalibrationAnswerSchema,
  calibrateBoard,
  MAX_CALIBRATE_BUDGET_MS,
} from './calibrate.js';
