/** Browser: serial ports through the Web Serial API (Chrome, Edge). No Node imports. */
export { openWebSerialPort, type WebSerialPortLike, type WebSerialTransport } from './web-serial.js';
