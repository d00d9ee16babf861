export { type Calibration, KERNEL_NAMES } from './calibration.js';
export { decodeMessage, encodeMessage, type Message, MessageKind } from './messages.js';
export { FROM_TOP, lebBytes, readLeb, SLICED_KINDS, type SlicedMessage } from './sliced.js';
export type { BoardCounters } from './stats.js';
