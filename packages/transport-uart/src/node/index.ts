/** Node-only: serial devices through the `serialport` package. Browsers use `@tinypipe/transport-uart/web`. */

export { TRANSPORT_UART_ERROR_CODES, type TransportUartErrorCodes } from '../errors/codes.js';
export { describeUsb, ESP32S3_USB_IDS, listFromSysfs, listSerialPorts, type SerialPortInfo } from './list.js';
export { type OpenSerialPortOptions, openSerialPort, type SerialTransport } from './serial-port.js';
