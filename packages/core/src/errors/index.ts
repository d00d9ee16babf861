export { type ErrorCode, TinypipeError, type TinypipeErrorOptions } from './tinypipe-error.js';
