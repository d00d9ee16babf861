/**
 * The status bytes that end every response body (esptool docs "Serial Protocol", Status Bytes):
 *  - the ESP32-S3 **ROM** ends it with 4 bytes, status first: status (0 ok, 1 failed), error, 2 reserved;
 *  - the **stub** ends it with 2 bytes. The stub's sources (flasher_stub/stub_flasher.c) send its error
 *    code (0xC0…, 0xFF) in the first byte and 0 in the second; the docs' table reads them as status,
 *    error. Either way a non-zero first byte is a failure.
 * Reading the wrong count is how a flasher takes every ROM error for success (the last 2 of the ROM's 4
 * bytes are the reserved zeros), so the count follows the loader SYNC found (`../loader/loader.ts`).
 */
export type LoaderKind = 'rom' | 'stub';

export const STATUS_BYTES: Readonly<Record<LoaderKind, number>> = { rom: 4, stub: 2 };

/** ROM loader error values (docs "Serial Protocol", ROM Loader Errors), our wording. */
export const ROM_ERRORS: Readonly<Record<number, string>> = {
  0: 'undefined error',
  1: 'invalid input parameter',
  2: 'out of memory',
  3: 'failed to send a message',
  4: 'failed to receive a message',
  5: 'received message is malformed (an unknown command, or one the ROM refuses in this state)',
  6: 'message understood but the operation failed',
  7: 'checksum error',
  8: 'flash write error (the block read back differs)',
  9: 'flash read error',
  10: 'flash read length error',
  11: 'deflate failed',
  12: 'deflate Adler-32 error',
  13: 'deflate parameter error',
  14: 'invalid RAM binary size',
  15: 'invalid RAM binary address',
  100: 'invalid parameter',
  101: 'invalid format',
  102: 'description too long',
  103: 'bad encoding description',
  105: 'insufficient storage',
};

/** Flasher stub error codes (esptool flasher_stub/include/stub_flasher.h; esptool util.py), our wording. */
export const STUB_ERRORS: Readonly<Record<number, string>> = {
  192: 'bad data length',
  193: 'bad data checksum',
  194: 'bad block size',
  195: 'invalid command',
  196: 'SPI operation failed',
  197: 'SPI unlock failed',
  198: 'not in flash mode',
  199: 'inflate error',
  200: 'not enough data',
  201: 'too much data',
  255: 'command not implemented',
};

export interface Status {
  /** The body before the status bytes. */
  data: Uint8Array;
  ok: boolean;
  /** The error code the loader named (0 when ok). */
  code: number;
  /** The status bytes as received. */
  bytes: Uint8Array;
}

/** The body's status, or undefined when the body is shorter than this loader's status bytes. */
export function readStatus(body: Uint8Array, kind: LoaderKind): Status | undefined {
  const n = STATUS_BYTES[kind];
  if (body.length < n) return undefined;
  const bytes = body.slice(body.length - n);
  const ok = bytes[0] === 0;
  // the stub puts its 0xC* code first; a loader answering in the documented form has status 1, code after it
  const code = ok ? 0 : kind === 'stub' && bytes[0] !== 1 ? bytes[0]! : bytes[1]!;
  return { data: body.subarray(0, body.length - n), ok, code, bytes };
}

const hex2 = (b: number) => `0x${b.toString(16).padStart(2, '0')}`;

/** "ROM error 0x05 (received message is malformed …)", for messages. */
export function describeError(kind: LoaderKind, code: number): string {
  const name = (kind === 'rom' ? ROM_ERRORS : STUB_ERRORS)[code];
  return `${kind === 'rom' ? 'ROM' : 'stub'} error ${hex2(code)}${name ? ` (${name})` : ''}`;
}
