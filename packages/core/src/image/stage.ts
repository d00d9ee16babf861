/**
 * The layout facts of a stage an image holds (its shape and ranges checked as the quantized engine
 * checks them).
 */

import { checkStageRanges, checkStageShape } from '../quant/slice.js';
import type { StageWeights } from '../quant/types.js';
import { withVocabRangeAlias } from '../quant/vocab-alias.js';
import type { StageLayout } from './format.js';

/** The layout facts of a stage (validated shape and ranges). */
export function stageLayout(stage: StageWeights): StageLayout {
  checkStageShape(stage.config, stage.kind);
  const vocab = stage.classifier?.vocab;
  checkStageRanges(
    stage.config.nLayers,
    stage.config.vocabSize,
    stage.layerRange,
    stage.embedding !== undefined,
    vocab,
  );
  return withVocabRangeAlias({
    config: stage.config,
    kind: stage.kind,
    groupSize: stage.groupSize,
    layerRange: stage.layerRange,
    embedding: stage.embedding !== undefined,
    vocab,
  });
}
