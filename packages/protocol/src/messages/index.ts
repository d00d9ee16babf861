export { type Calibration, KERNEL_NAMES } from './calibration.js';
export { decodeMessage, encodeMessage, type Message, MessageKind } from './messages.js';
export type { BoardCounters } from './stats.js';
