/** Browser: serial ports through the Web Serial API (Chrome, Edge). No Node imports. */

export { TRANSPORT_UART_ERROR_CODES, type TransportUartErrorCodes } from '../errors/codes.js';
export { openWebSerialPort, type WebSerialPortLike, type WebSerialTransport } from './web-serial.js';
