export { PROTOCOL_ERROR_CODES, type ProtocolErrorCodes } from './codes.js';
export {
  type ErrorCode,
  TinypipeError,
  type TinypipeErrorCodes,
  type TinypipeErrorOptions,
} from './tinypipe-error.js';
