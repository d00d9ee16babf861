/** Shared by the frame fuzz tests (frame.fuzz.test.ts, streams.fuzz.test.ts): run counts and frames. */
import fc from 'fast-check';
import { type Frame, FrameType } from './frame.js';

/** fast-check parameters: `numRuns`, and the seed in FC_SEED when set (to replay a failure). */
export const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
});

export const u16 = fc.integer({ min: 0, max: 0xffff });

/** Any frame: every type, any session / seq / ack / sack, payloads from `payload`. */
export const anyFrame = (payload: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Frame> =>
  fc.record({
    type: fc.constantFrom(...Object.values(FrameType)),
    session: u16,
    seq: u16,
    ack: u16,
    sack: u16,
    payload,
  });
