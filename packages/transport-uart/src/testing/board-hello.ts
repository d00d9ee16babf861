import { HELLO_PROTOCOL, type HelloInfo } from '@tinypipe/protocol';

/**
 * A board's HELLO for tests and simulated boards: one stream, layers [0, 1), no classifier rows, the
 * embedding — override what your test is about.
 */
export function boardHello(overrides: Partial<HelloInfo> = {}): HelloInfo {
  return {
    protocol: HELLO_PROTOCOL,
    role: 'board',
    board: 0,
    fingerprint: undefined,
    layers: [0, 1],
    vocab: [0, 0],
    maxPayload: 4096,
    streams: 1,
    caps: { embedding: true, classifier: false, sampler: false },
    baud: 0,
    ...overrides,
  };
}
