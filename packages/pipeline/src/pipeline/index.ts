export type { Embedder } from './embedder.js';
export {
  type BuildIdentity,
  MIN_REQUEST_TIMEOUT_MS,
  planRequestTimeouts,
  REQUEST_TIMEOUT_FACTOR,
} from './from-plan.js';
export {
  type BoardStats,
  type HostLinkStats,
  Pipeline,
  type PipelineOptions,
  type PipelinePlan,
  type PipelineRequestEvent,
  type PipelineStage,
  pipelinePlan,
  type StageStats,
  type Topology,
} from './pipeline.js';
