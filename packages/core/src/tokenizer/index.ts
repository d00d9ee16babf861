export { type TokenizerSection, tokenizerFromSection, tokenizerSection } from './section.js';
export {
  BOS,
  type EncodeOptions,
  EOS,
  PieceDecoder,
  printableBytes,
  readTokenizer,
  Tokenizer,
} from './tokenizer.js';
