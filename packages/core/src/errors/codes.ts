/**
 * The error codes `@tinypipe/core` owns (checkpoints, tokenizer, generation arguments, files, quantization,
 * images), with what each means. Registering them in `TinypipeErrorCodes` makes them type-check wherever
 * `@tinypipe/core` is installed; docs/errors.md lists every package's codes.
 */
export const CORE_ERROR_CODES = {
  // checkpoint files (llama2.c formats)
  CHECKPOINT_TRUNCATED: 'A checkpoint file shorter than its header says.',
  CHECKPOINT_BAD_MAGIC: 'Not a llama2.c checkpoint (its magic differs).',
  CHECKPOINT_BAD_VERSION: 'A llama2.c checkpoint version this reader does not know.',
  CHECKPOINT_BAD_HEADER: 'A checkpoint header field out of range.',
  CHECKPOINT_SIZE_MISMATCH: 'A checkpoint whose size differs from what its header implies.',
  // tokenizer
  TOKENIZER_TRUNCATED: 'A tokenizer file shorter than its vocabulary says.',
  TOKENIZER_BAD_FILE:
    'A tokenizer file that does not parse (or a vocabulary too small for byte fallback, BOS and EOS).',
  TOKENIZER_VOCAB_MISMATCH: "A tokenizer whose vocabulary size differs from the model's.",
  TOKEN_OUT_OF_RANGE: 'A token id outside the vocabulary.',
  // generation / engine arguments
  BAD_STEPS: 'A step count that is not a positive integer within the model’s sequence length.',
  BAD_TEMPERATURE: 'A temperature that is negative or not finite.',
  BAD_TOPP: 'A top-p outside [0, 1].',
  PROMPT_TOO_LONG: 'A prompt with more tokens than the sequence length leaves room for.',
  POSITION_OUT_OF_RANGE: "A position outside the model's sequence length.",
  // files on disk
  FILE_NOT_FOUND: 'No file at that path.',
  FILE_READ_FAILED: 'A file that exists but cannot be read.',
  FILE_WRITE_FAILED: 'A file that cannot be written.',
  HASH_MISMATCH: 'A file whose SHA-256 differs from the one it should have.',
  PATH_OUTSIDE:
    'A path read from a file (a plan’s model source, a manifest entry) leaves its folder (`..`, absolute, a symlink out).',
  // quantization and weight images
  QUANT_BAD_GROUP: 'A quantization group size that does not divide the rows.',
  IMAGE_MISMATCH: 'A weight image of another model or stage than expected.',
} as const;

/** The table's type, merged into `TinypipeErrorCodes`. */
export type CoreErrorCodes = typeof CORE_ERROR_CODES;

declare module '@tinypipe/protocol' {
  interface TinypipeErrorCodes extends CoreErrorCodes {}
}
