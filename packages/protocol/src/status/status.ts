/**
 * The firmware's status codes (packages/firmware/src/tp_status.h), by number: the C enum's name, the name
 * the firmware's `tp_status_name` gives it, and the @tinypipe error code an ERROR message carrying it
 * means on the host. packages/firmware/ts/status-table.test.ts checks this table against the C sources.
 */
import type { ErrorCode } from '../errors/tinypipe-error.js';

export interface FirmwareStatus {
  /** The status number (tp_status), as an ERROR message's `code` carries it. */
  status: number;
  /** Its name in tp_status.h. */
  enumName: string;
  /** What `tp_status_name` returns for it. */
  name: string;
  /** The host's error code for it. */
  code: ErrorCode;
}

const row = (status: number, enumName: string, name: string, code: ErrorCode = name as ErrorCode) =>
  Object.freeze({ status, enumName, name, code });

/** Every firmware status, indexed by its number. */
export const FIRMWARE_STATUS: readonly Readonly<FirmwareStatus>[] = Object.freeze([
  row(0, 'TP_OK', 'OK', 'INVALID_ARGUMENT'), // never sent in an ERROR
  row(1, 'TP_E_TRUNCATED', 'IMAGE_TRUNCATED'),
  row(2, 'TP_E_BAD_MAGIC', 'IMAGE_BAD_MAGIC'),
  row(3, 'TP_E_BAD_VERSION', 'IMAGE_BAD_VERSION'),
  row(4, 'TP_E_BAD_HEADER', 'IMAGE_BAD_HEADER'),
  row(5, 'TP_E_BAD_RANGE', 'IMAGE_BAD_RANGE'),
  row(6, 'TP_E_HEADER_CRC', 'IMAGE_HEADER_CRC'),
  row(7, 'TP_E_BAD_TABLE', 'IMAGE_BAD_TABLE'),
  row(8, 'TP_E_SIZE', 'IMAGE_SIZE_MISMATCH'),
  row(9, 'TP_E_TENSOR_CRC', 'IMAGE_TENSOR_CRC'),
  row(10, 'TP_E_BAD_PADDING', 'IMAGE_BAD_PADDING'),
  row(11, 'TP_E_NO_MEMORY', 'NO_MEMORY', 'REMOTE_ERROR'),
  row(12, 'TP_E_ARG', 'INVALID_ARGUMENT'),
  row(13, 'TP_E_UNSUPPORTED', 'UNSUPPORTED', 'REMOTE_ERROR'),
  row(14, 'TP_E_NEXT_REFUSED', 'WRONG_MODEL'),
  row(15, 'TP_E_NEXT_SILENT', 'LINK_DOWN'),
  row(16, 'TP_E_LIMITS', 'IMAGE_EXCEEDS_BOARD'),
  row(17, 'TP_E_NONFINITE', 'NONFINITE'),
  row(18, 'TP_E_NEXT_WRONG_BUILD', 'MIXED_BUILD'),
  row(19, 'TP_E_CLOSED', 'LINK_CLOSED', 'LINK_DOWN'),
  row(20, 'TP_E_BUSY', 'LINK_BUSY', 'REMOTE_ERROR'), // a full send window, retried on the board
  row(21, 'TP_E_MALFORMED', 'MESSAGE_MALFORMED'),
]);

/** The error code of a firmware status (REMOTE_ERROR for one this host does not know). */
export function firmwareErrorCode(status: number): ErrorCode {
  return FIRMWARE_STATUS[status]?.code ?? 'REMOTE_ERROR';
}
