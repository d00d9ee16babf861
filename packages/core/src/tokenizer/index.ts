export {
  BOS,
  type EncodeOptions,
  EOS,
  PieceDecoder,
  printableBytes,
  readTokenizer,
  Tokenizer,
} from './tokenizer.js';
