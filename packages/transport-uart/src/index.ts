/**
 * `@tinypipe/transport-uart` — `ReliableLink`, the reliable `Link` of the `@tinypipe` wire protocol
 * (docs/protocol.md) over any `Transport`; frames, COBS and CRC-32C are in `@tinypipe/protocol`. Serial adapters live in the
 * `./node` (serialport) and `./web` (Web Serial) entries; test doubles in `./testing`.
 */

export { TRANSPORT_UART_ERROR_CODES, type TransportUartErrorCodes } from './errors/codes.js';
export {
  type AcceptOptions,
  type ConnectOptions,
  type LinkClock,
  ReliableLink,
  type ReliableLinkOptions,
} from './link/reliable-link.js';
export { runLinkSoak, type SoakOptions, type SoakReport } from './soak/soak.js';
