export {
  type GeneratedToken,
  type GenerateOptions,
  type GenerateResult,
  generate,
  generateText,
  preparePrompt,
} from './generate.js';
