/**
 * Test helpers for code built on @tinypipe/pipeline: `memoryBoard`, a board in memory (the TS stage of a
 * split behind a `Link`, answering like the C board) with faults to inject — a reset, a stall, a dropped
 * link — and `memoryChain`, memory boards wired board to board (chain topology). Small models to put on it are in `@tinypipe/core/testing`; the Link and Transport contract suites
 * in `@tinypipe/protocol/testing`.
 */
export { type MemoryBoard, type MemoryBoardOptions, memoryBoard } from './memory-board.js';
export { type MemoryChain, memoryChain } from './memory-chain.js';
