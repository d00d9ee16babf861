import { createTransportPair } from '@tinypipe/protocol';
import { linkContract } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { boardHello } from '../testing/board-hello.js';
import { createFaultyLinePair } from '../testing/faulty-line.js';
import { ReliableLink } from './reliable-link.js';

const board = boardHello();

linkContract(
  'ReliableLink over the in-memory pair',
  () => {
    const [a, b] = createTransportPair();
    return Promise.all([ReliableLink.connect(a), ReliableLink.accept(b, board)]);
  },
  { describe, it, expect },
);

linkContract(
  'ReliableLink over the fault-injecting line (bit errors, drops, inserts, garbage)',
  () => {
    const line = createFaultyLinePair({ ber: 2e-5, drop: 2e-4, insert: 2e-4, garbage: 1e-4, seed: 9 });
    return Promise.all([
      ReliableLink.connect(line.a, { maxRetries: 60, handshakeTimeoutMs: 30_000 }),
      ReliableLink.accept(line.b, board, { maxRetries: 60 }),
    ]);
  },
  { describe, it, expect },
);
