/** Test helpers: a fault-injecting line to test any link or decoder against. */

export { TRANSPORT_UART_ERROR_CODES, type TransportUartErrorCodes } from '../errors/codes.js';
export { boardHello } from './board-hello.js';
export { createFakeWebSerialPair, type FakeWebSerialPort } from './fake-web-serial.js';
export { createFaultyLinePair, type LineFaults, type LineStats } from './faulty-line.js';
export { VirtualClock } from './virtual-clock.js';
