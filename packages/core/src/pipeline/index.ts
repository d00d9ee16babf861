export {
  Pipeline,
  type PipelinePlan,
  type PipelineStage,
  pipelinePlan,
  type StageStats,
} from './pipeline.js';
