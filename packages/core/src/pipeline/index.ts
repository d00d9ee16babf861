export { Pipeline, type PipelinePlan, type PipelineStage, type StageStats } from './pipeline.js';
