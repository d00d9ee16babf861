export {
  type BoardCalibration,
  type CalibrateOptions,
  type CalibrateProgress,
  CalibrationAnswerSchema,
  calibrateBoard,
  deriveCalibration,
  MAX_CALIBRATE_BUDGET_MS,
} from './calibrate.js';
