/** Test helpers: a fault-injecting line to test any link or decoder against. */
export { createFaultyLinePair, type LineFaults, type LineStats } from './faulty-line.js';
