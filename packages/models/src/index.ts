/**
 * The small llama2.c files tinypipe runs by default, shipped with this package and checked against
 * their SHA-256 every time they are read.
 */
export { BUNDLED_MODELS, type BundledModel, bundledModelPath, modelsDir, readBundledModel } from './files.js';
