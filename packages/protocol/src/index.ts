/**
 * `@tinypipe/protocol` — the @tinypipe wire protocol with no runtime dependencies (docs/protocol.md): the
 * error family and its codes, CRC-32C, COBS, frames and their stream codec, HELLO, the §5 link messages,
 * the firmware status table, and the `Transport`/`Link` contracts with an in-memory transport. The
 * contract suites for your own transports and links are in `@tinypipe/protocol/testing`.
 */
export * from './cobs/index.js';
export * from './crc32c/index.js';
export * from './errors/index.js';
export * from './frame/index.js';
export * from './hello/index.js';
export * from './link/index.js';
export * from './messages/index.js';
export * from './status/index.js';
