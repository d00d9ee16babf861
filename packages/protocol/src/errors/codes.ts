/**
 * The error codes `@tinypipe/protocol` owns, with what each means: codes any `@tinypipe` package may throw
 * (arguments, aborts, timeouts, this machine), those of the wire (frames, links, HELLO, §5 messages), and
 * those a board reports in an ERROR message (the firmware status table, status/status.ts).
 */
export const PROTOCOL_ERROR_CODES = {
  // any package
  INVALID_ARGUMENT: 'An argument is out of range or malformed (the message names it).',
  ABORTED: 'The caller aborted the operation (its AbortSignal fired).',
  TIMEOUT: 'A peer or a device did not answer in time.',
  ENVIRONMENT:
    'A tool or library tinypipe needs on this machine is missing or failed (cmake, a C compiler, serialport): the message names it and how to install it (the CLI exits with status 3).',
  // the wire (docs/protocol.md)
  FRAME_MALFORMED: 'A frame that does not parse (COBS, length, CRC-32C, version).',
  PAYLOAD_TOO_LARGE: 'A payload larger than a frame carries (MAX_PAYLOAD).',
  LINK_DOWN: 'The link to a board is down: it stopped answering or the next board in a chain is silent.',
  PEER_RESET: 'The peer restarted (a new HELLO) while the link was up.',
  PROTOCOL_MISMATCH: 'The peer speaks another protocol version (HELLO).',
  WRONG_MODEL: "The board serves another model or stage than the host's plan (HELLO).",
  MIXED_BUILD:
    'The boards of one pipeline (or one build folder) come from different builds (build ids differ): rebuild and flash them all.',
  REMOTE_ERROR: 'A board reported an error this host has no better code for (its text is in the message).',
  PORT_DISCONNECTED: 'The port under a transport closed or was unplugged.',
  MESSAGE_MALFORMED: 'A link message (docs/protocol.md §5) or handshake payload that does not parse.',
  BAD_REPLY:
    "A board's answer that breaks what the host asked (wrong kind or position, LOGITS slices with gaps or past the vocab): docs/protocol.md §5.2.",
  // what a board reports (tp_status, the firmware status table) and the image reader shares
  IMAGE_TRUNCATED: 'A weight image shorter than its header or table says.',
  IMAGE_BAD_MAGIC: 'Not a tinypipe weight image (its magic differs).',
  IMAGE_BAD_VERSION: 'A weight image format version this reader does not know.',
  IMAGE_BAD_HEADER: 'A weight image header field out of range or inconsistent with the others.',
  IMAGE_BAD_RANGE: "A weight image's layer range or vocab slice that does not fit its model.",
  IMAGE_HEADER_CRC: 'A weight image header whose CRC-32C does not match.',
  IMAGE_BAD_TABLE: "A weight image's tensor table with bad offsets, sizes or order.",
  IMAGE_SIZE_MISMATCH: 'A weight image whose size differs from what its header says.',
  IMAGE_TENSOR_CRC: 'A weight image tensor whose CRC-32C does not match.',
  IMAGE_BAD_PADDING: 'A weight image with a non-zero byte where the format requires zero padding.',
  IMAGE_EXCEEDS_BOARD:
    "A valid weight image larger than a board's compiled limits (dim, layers, vocab rows…; docs/image-format.md §6a).",
  NONFINITE:
    'NaN or ±Inf in activations, logits or logits / temperature (docs/numerics.md §3a): the stream cannot go on.',
} as const;

/** The table's type: what the error code interface extends. */
export type ProtocolErrorCodes = typeof PROTOCOL_ERROR_CODES;
