/** Node-only helpers (file system). Everything else is in the main entry and runs in browsers too. */
export * from './node/index.js';
