/**
 * `@tinypipe/partitioner` — "this model on these boards" → a plan: board profiles, a cost model, an exact
 * split solver, and per board a weight image, an ESP-IDF partition table and a manifest. Runs in Node
 * and browsers (no Node imports).
 */
export {
  type BoardBuild,
  type BoardFile,
  type BoardManifest,
  type BuildOptions,
  buildId,
  buildPlan,
  HOST_IMAGE_FILE,
  RING_SDKCONFIG_FILE,
  recomputeBuildId,
} from './build/build.js';
export {
  RING_DEFAULTS,
  type RingBoardConfig,
  type RingSettings,
  type RingWire,
  ringBoardConfigs,
  ringReadme,
  ringWires,
} from './build/ring.js';
export {
  type CostOptions,
  classifierWork,
  type Footprint,
  footprint,
  hopMicros,
  layerWork,
  type ModelSpec,
  partitionBytes,
  type StageSelection,
  type Work,
  workMicros,
} from './cost/cost.js';
export type { EmbeddingPlacement } from './cost/kv.js';
export { PARTITIONER_ERROR_CODES, type PartitionerErrorCodes } from './errors/codes.js';
export {
  boardPartitions,
  FIRST_PARTITION_OFFSET,
  MODEL_SUBTYPE,
  PARTITION_TABLE_BYTES,
  PARTITION_TABLE_OFFSET,
  type PartitionEntry,
  partitionsCsv,
  partitionTableBinary,
  validatePartitions,
} from './partition-table/partition-table.js';
export { escapeXml, PLAN_SVG_BAR_WIDTH, renderPlanSvg } from './picture/plan-svg.js';
export { describeHolding, figuresLine, formatPlan, formatRange } from './plan/format.js';
export { planModel } from './plan/plan.js';
export type { PlanRequest, ResolvedRequest } from './plan/request.js';
export { PLAN_FORMAT, PLAN_VERSION, type Plan, PlanSchema, parsePlan } from './plan/schema.js';
export { checkRingPlan, WHOLE_CLASSIFIER_WHY } from './plan/standalone.js';
export { type BoardCalibration, deriveCalibration } from './profiles/calibration.js';
export { type MeasuredProfileOptions, measuredProfile } from './profiles/measured.js';
export {
  type BoardProfile,
  BoardProfileSchema,
  BUILTIN_PROFILES,
  builtinProfile,
  figuresOf,
  type KernelKind,
  type KernelRate,
  type MeasuredFigures,
  MeasuredFiguresSchema,
  macsPerCycle,
  parseProfile,
} from './profiles/profiles.js';
export { evaluateSplit, type Problem, type Solution, type StageEstimate, solve } from './solver/solve.js';
