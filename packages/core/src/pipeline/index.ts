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
