export { imageBuildId, stampBuildId, unstampBuildId } from './build-id.js';
export {
  DTYPE_CODE,
  dtypeBytes,
  ESP32S3_MMU_PAGE_BYTES,
  expectedTensors,
  IMAGE_BUILD_ID_BYTES,
  IMAGE_ENTRY_BYTES,
  IMAGE_HEADER_BYTES,
  IMAGE_MAGIC,
  IMAGE_TENSOR_ALIGN,
  IMAGE_VERSION,
  IMAGE_VERSIONS,
  type ImagePlan,
  type LegacyStageLayout,
  planImage,
  type StageLayout,
  type StoryLayout,
  type TensorDType,
  type TensorSpec,
  type TokenizerLayout,
} from './format.js';
export { type BoardLimits, checkBoardLimits, FIRMWARE_LIMITS } from './limits.js';
export { checkImageMatches } from './match.js';
export { readImage, verifyImage } from './read.js';
export { buildImage, serializeStage } from './serialize.js';
export {
  STORY_PARALLEL_MAX,
  STORY_PROMPT_MAX_BYTES,
  STORY_RECORD_BYTES,
  type StoryDefaults,
  type StoryDefaultsInput,
} from './story-section.js';
export type {
  ImageCheck,
  ImageContents,
  ImageExpectation,
  ImageHeader,
  ImageOptions,
  ImageReport,
  ImageTensorEntry,
} from './types.js';
