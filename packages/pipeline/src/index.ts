/**
 * `@tinypipe/pipeline` — the host side of a model split across boards: `Pipeline` (star or chain, several
 * streams in flight, resume after a board fault, per-board stats), `Pipeline.fromPlan` and `connectBoards`
 * for the partitioner's plan, host-side calibration over a link (`calibrateBoard`) and Chrome traces of
 * what the pipeline did (`TraceRecorder`). An in-memory board for tests is in `@tinypipe/pipeline/testing`.
 */
export * from './calibrate/index.js';
export * from './connect/index.js';
export * from './pipeline/index.js';
export * from './trace/index.js';
