/** Node-only helpers (file system). Everything else is in the main entry and runs in browsers too. */

export { CORE_ERROR_CODES, type CoreErrorCodes } from './errors/codes.js';
export * from './node/index.js';
