/**
 * The firmware's tp_status codes (packages/firmware/src/tp_status.h) as @tinypipe error codes, by number:
 * what an ERROR message's `code` means.
 */
import type { ErrorCode } from '../errors/tinypipe-error.js';

const STATUS: readonly ErrorCode[] = [
  'INVALID_ARGUMENT', // 0 TP_OK (never sent in an ERROR)
  'IMAGE_TRUNCATED',
  'IMAGE_BAD_MAGIC',
  'IMAGE_BAD_VERSION',
  'IMAGE_BAD_HEADER',
  'IMAGE_BAD_RANGE',
  'IMAGE_HEADER_CRC',
  'IMAGE_BAD_TABLE',
  'IMAGE_SIZE_MISMATCH',
  'IMAGE_TENSOR_CRC',
  'IMAGE_BAD_PADDING',
  'REMOTE_ERROR', // 11 TP_E_NO_MEMORY
  'INVALID_ARGUMENT', // 12 TP_E_ARG
  'REMOTE_ERROR', // 13 TP_E_UNSUPPORTED
  'WRONG_MODEL', // 14 TP_E_NEXT_REFUSED
  'LINK_DOWN', // 15 TP_E_NEXT_SILENT
  'IMAGE_EXCEEDS_BOARD', // 16 TP_E_LIMITS
  'NONFINITE', // 17 TP_E_NONFINITE
  'MIXED_BUILD', // 18 TP_E_NEXT_WRONG_BUILD
];

/** The error code of a firmware status (REMOTE_ERROR for one this host does not know). */
export function firmwareErrorCode(status: number): ErrorCode {
  return STATUS[status] ?? 'REMOTE_ERROR';
}
