export {
  type AsyncLogitsEngine,
  type GeneratedToken,
  type GenerateOptions,
  type GenerateResult,
  generate,
  generateText,
  preparePrompt,
  validateSteps,
} from './generate.js';
