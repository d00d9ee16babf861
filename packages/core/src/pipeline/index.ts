export {
  type BoardStats,
  Pipeline,
  type PipelineOptions,
  type PipelinePlan,
  type PipelineStage,
  pipelinePlan,
  type StageStats,
  type Topology,
} from './pipeline.js';
