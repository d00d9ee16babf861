export { MODEL_SHAPES, type ModelShape, synthesize } from './synthesize.js';
