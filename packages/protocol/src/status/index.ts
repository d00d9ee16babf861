export { FIRMWARE_STATUS, type FirmwareStatus, firmwareErrorCode } from './status.js';
