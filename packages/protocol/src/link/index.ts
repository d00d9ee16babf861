export { createTransportPair, transportFromStreams } from './memory-transport.js';
export type { Link, LinkStats, Transport } from './types.js';
