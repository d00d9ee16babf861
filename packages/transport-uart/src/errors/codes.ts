/**
 * The error codes `@tinypipe/transport-uart` owns (opening a serial device), with what each means.
 * Registering them in `TinypipeErrorCodes` makes them type-check wherever this package is installed;
 * docs/errors.md lists every package's codes.
 */
export const TRANSPORT_UART_ERROR_CODES = {
  PORT_NOT_FOUND: 'No serial device at that path.',
  PORT_BUSY: 'The serial device is open in another program (or another tinypipe).',
  PORT_OPEN_FAILED: 'The serial device exists but cannot be opened (permissions, driver).',
} as const;

/** The table's type, merged into `TinypipeErrorCodes`. */
export type TransportUartErrorCodes = typeof TRANSPORT_UART_ERROR_CODES;

declare module '@tinypipe/protocol' {
  interface TinypipeErrorCodes extends TransportUartErrorCodes {}
}
