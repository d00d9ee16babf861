/**
 * The one error family of @tinypipe. Every failure a user can act on is a `TinypipeError` with a
 * stable `code` (safe to switch on), a message that says what happened and what to do, and the
 * underlying `cause` when there is one.
 *
 * `TinypipeError.isInstance(e)` works across duplicated copies of this package (two versions in one
 * `node_modules`), because it checks a global symbol marker rather than the class identity.
 */

const marker = Symbol.for('tinypipe.error');

/** Stable error codes. Add new ones at the end of their group; never rename one. */
export type ErrorCode =
  // checkpoint files (llama2.c formats)
  | 'CHECKPOINT_TRUNCATED'
  | 'CHECKPOINT_BAD_MAGIC'
  | 'CHECKPOINT_BAD_VERSION'
  | 'CHECKPOINT_BAD_HEADER'
  | 'CHECKPOINT_SIZE_MISMATCH'
  // tokenizer
  | 'TOKENIZER_TRUNCATED'
  | 'TOKENIZER_BAD_FILE'
  | 'TOKENIZER_VOCAB_MISMATCH'
  | 'TOKEN_OUT_OF_RANGE'
  // generation / engine arguments
  | 'INVALID_ARGUMENT'
  | 'BAD_STEPS'
  | 'BAD_TEMPERATURE'
  | 'BAD_TOPP'
  | 'PROMPT_TOO_LONG'
  | 'POSITION_OUT_OF_RANGE'
  | 'ABORTED'
  /** A command-line flag or argument is malformed (the CLI exits with status 2). */
  | 'USAGE'
  // files on disk
  | 'FILE_NOT_FOUND'
  | 'FILE_READ_FAILED'
  | 'FILE_WRITE_FAILED'
  | 'HASH_MISMATCH'
  // quantization and weight images
  | 'QUANT_BAD_GROUP'
  | 'IMAGE_TRUNCATED'
  | 'IMAGE_BAD_MAGIC'
  | 'IMAGE_BAD_VERSION'
  | 'IMAGE_BAD_HEADER'
  | 'IMAGE_HEADER_CRC'
  | 'IMAGE_TENSOR_CRC'
  | 'IMAGE_BAD_TABLE'
  | 'IMAGE_BAD_RANGE'
  | 'IMAGE_SIZE_MISMATCH'
  | 'IMAGE_MISMATCH'
  /** A weight image has a non-zero byte where the format requires zero padding. */
  | 'IMAGE_BAD_PADDING'
  /** A valid weight image larger than a board's compiled limits (dim, layers, vocab rows…; docs/image-format.md §6a). */
  | 'IMAGE_EXCEEDS_BOARD'
  /** NaN or ±Inf in activations, logits or logits / temperature (docs/numerics.md §3a): the stream cannot go on. */
  | 'NONFINITE'
  // the wire (docs/protocol.md)
  | 'FRAME_MALFORMED'
  | 'PAYLOAD_TOO_LARGE'
  | 'TIMEOUT'
  | 'LINK_DOWN'
  | 'PEER_RESET'
  | 'PROTOCOL_MISMATCH'
  | 'WRONG_MODEL'
  | 'REMOTE_ERROR'
  | 'PORT_DISCONNECTED'
  /** No serial device at that path. */
  | 'PORT_NOT_FOUND'
  /** The serial device is open in another program (or another tinypipe). */
  | 'PORT_BUSY'
  /** The serial device exists but cannot be opened (permissions, driver). */
  | 'PORT_OPEN_FAILED'
  /** A link message (docs/protocol.md §5) or handshake payload that does not parse. */
  | 'MESSAGE_MALFORMED'
  /** A board's answer that breaks what the host asked (wrong kind or position, LOGITS slices with gaps or past the vocab): docs/protocol.md §5.2. */
  | 'BAD_REPLY'
  // planning (@tinypipe/partitioner)
  /** The model does not fit the boards; the message says what does not fit where, and the smallest fix. */
  | 'PLAN_INFEASIBLE'
  /** A plan file that does not parse or breaks the plan schema (the message names the bad field). */
  | 'PLAN_INVALID'
  /** A board name that is not a built-in profile. */
  | 'BOARD_UNKNOWN'
  /** A custom board profile with a missing or bad field. */
  | 'PROFILE_INVALID'
  /** Overlapping, misaligned or oversized ESP-IDF partitions. */
  | 'PARTITION_TABLE_INVALID'
  // flashing (@tinypipe/flasher)
  /** The chip on a port is not the one the plan was built for. */
  | 'WRONG_CHIP'
  /** The chip's flash is smaller than the plan's board profile. */
  | 'FLASH_TOO_SMALL'
  /** The bootloader refused a command (its status and error code are in the message). */
  | 'FLASH_FAILED'
  /** A region's MD5 read back from flash differs from what was written, even after rewriting it. */
  | 'FLASH_VERIFY_FAILED'
  /** A build folder whose manifest or files are missing or do not match their SHA-256. */
  | 'BUILD_INVALID'
  /** A flasher stub image that is not in esptool's stub JSON format (the message names the bad field). */
  | 'STUB_INVALID'
  /** The chip on a port is not the one (MAC) this board's build was flashed to before: swapped ports or a replaced board. */
  | 'WRONG_BOARD'
  /** The boards of one pipeline (or one build folder) come from different builds (build ids differ): rebuild and flash them all. */
  | 'MIXED_BUILD'
  /** A path read from a file (a plan's model source, a manifest entry) leaves its folder (`..`, absolute, a symlink out). */
  | 'PATH_OUTSIDE'
  /** A manifest region lies outside the partition it names, outside the flash, or overlaps another region. */
  | 'BAD_OFFSET'
  /** The disk (or the user's quota) is full (ENOSPC, EDQUOT): nothing was replaced; free space and run again. */
  | 'DISK_FULL'
  // this machine
  /**
   * A tool or library tinypipe needs on this machine is missing or failed (cmake, a C compiler, zlib
   * headers): the message names it and how to install it (the CLI exits with status 3).
   */
  | 'ENVIRONMENT';

export interface TinypipeErrorOptions {
  cause?: unknown;
  /** Machine-readable facts (expected/actual sizes, offsets, names) for tools and `--json` output. */
  details?: Record<string, unknown>;
}

export class TinypipeError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TinypipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TinypipeError';
    this.code = code;
    this.details = options.details;
  }

  /** True for any TinypipeError, from any copy of @tinypipe/core. */
  static isInstance(value: unknown): value is TinypipeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** True when `value` is a TinypipeError with the given code. */
  static hasCode(value: unknown, code: ErrorCode): value is TinypipeError {
    return TinypipeError.isInstance(value) && value.code === code;
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
