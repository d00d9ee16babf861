import { TinypipeError, type Transport } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { Op } from '../protocol/commands.js';
import { EspLoader } from './loader.js';

/** A transport whose writes never complete and which never answers: a driver that lost a write callback. */
function stuckTransport(): Transport {
  return {
    specificationVersion: 1,
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>({ write: () => new Promise<void>(() => {}) }),
    close: async () => {},
  };
}

describe('EspLoader', () => {
  it('a write that never completes ends in TIMEOUT (the answer’s timer bounds it), not a hang', async () => {
    const loader = new EspLoader(stuckTransport(), '/dev/ttyFAKE', { timeoutMs: 50 });
    const e = await loader.command(Op.SYNC, new Uint8Array(36)).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'TIMEOUT')).toBe(true);
    expect((e as Error).message).toMatch(/\/dev\/ttyFAKE: no answer to SYNC within 50 ms/);
  });
});
