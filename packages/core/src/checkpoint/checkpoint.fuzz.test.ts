/**
 * Property-based fuzzing of the llama2.c checkpoint reader (issue 17, item 6): arbitrary bytes, headers
 * with hostile fields, valid files of random small shapes and their mutations. Replay a failure with the
 * seed fast-check prints: `FC_SEED=<seed> npx vitest run src/checkpoint`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { codeOf } from '../errors/code-of.test-helper.js';
import { synthesize } from '../synth/synthesize.js';
import { CHECKPOINT_MAGIC, V0_HEADER_BYTES, V12_HEADER_BYTES } from './layout.js';
import { readCheckpoint } from './read.js';
import type { Checkpoint, CheckpointVersion, ModelConfig } from './types.js';
import { writeCheckpoint } from './write.js';

const FC_SEED = process.env.FC_SEED;
const runs = (numRuns: number): fc.Parameters<unknown> => ({
  numRuns,
  ...(FC_SEED ? { seed: Number(FC_SEED) } : {}),
});

const CODES = [
  'CHECKPOINT_TRUNCATED',
  'CHECKPOINT_BAD_MAGIC',
  'CHECKPOINT_BAD_VERSION',
  'CHECKPOINT_BAD_HEADER',
  'CHECKPOINT_SIZE_MISMATCH',
];

/** readCheckpoint's value, or the code it threw (anything but a TinypipeError fails the property). */
function readOrCode(bytes: Uint8Array): Checkpoint | string {
  let ck: Checkpoint | undefined;
  const code = codeOf(() => {
    ck = readCheckpoint(bytes);
  });
  return ck ?? code;
}

const bitsOf = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/** Same config and bit-identical weights (`source` aside: a synthesized checkpoint says v0 whatever it is written as). */
function expectSameCheckpoint(a: Checkpoint, b: Checkpoint): void {
  expect(b.config).toEqual(a.config);
  for (const key of Object.keys(a.weights) as (keyof Checkpoint['weights'])[])
    expect(bitsOf(b.weights[key]).equals(bitsOf(a.weights[key])), key).toBe(true);
}

/** A valid small model shape: head size even, n_kv_heads dividing n_heads. */
const configArb: fc.Arbitrary<ModelConfig> = fc
  .record({
    kvHeads: fc.integer({ min: 1, max: 2 }),
    group: fc.integer({ min: 1, max: 2 }),
    halfHead: fc.integer({ min: 1, max: 4 }),
    hiddenDim: fc.integer({ min: 1, max: 24 }),
    nLayers: fc.integer({ min: 1, max: 2 }),
    vocabSize: fc.integer({ min: 1, max: 20 }),
    seqLen: fc.integer({ min: 1, max: 8 }),
    sharedClassifier: fc.boolean(),
  })
  .map(({ kvHeads, group, halfHead, hiddenDim, nLayers, vocabSize, seqLen, sharedClassifier }) => {
    const nHeads = kvHeads * group;
    return {
      dim: nHeads * 2 * halfHead,
      hiddenDim,
      nLayers,
      nHeads,
      nKvHeads: kvHeads,
      vocabSize,
      seqLen,
      sharedClassifier,
    };
  });

/** A valid file: its checkpoint as written, its bytes and version. */
const fileArb = fc
  .record({ config: configArb, seed: fc.nat(), version: fc.constantFrom<CheckpointVersion>(0, 1, 2) })
  .map(({ config, seed, version }) => {
    // v2 quantizes in groups that must divide every matrix: group 2 divides them all here (dim is even)
    const cfg = version === 2 ? { ...config, hiddenDim: 2 * Math.ceil(config.hiddenDim / 2) } : config;
    const ck = synthesize(cfg, seed);
    return {
      ck,
      version,
      bytes: writeCheckpoint(ck, version === 2 ? { version, groupSize: 2 } : { version }),
    };
  });

/** A header with every field drawn from the hostile values (0, negative, 2^31 − 1, …) or small ones. */
const hostileHeader = fc
  .record({
    version: fc.constantFrom(0, 1, 2, 3, -1),
    ints: fc.array(
      fc.oneof(
        fc.integer({ min: 1, max: 64 }),
        fc.constantFrom(0, -1, 0x7fffffff, -0x80000000, 0x40000000, 0x10000, 3),
      ),
      { minLength: 8, maxLength: 8 },
    ),
    shared: fc.constantFrom(0, 1, 2, 0xff),
    tail: fc.uint8Array({ maxLength: 400 }),
  })
  .map(({ version, ints, shared, tail }) => {
    const head = new Uint8Array(version === 0 ? V0_HEADER_BYTES : V12_HEADER_BYTES);
    const v = new DataView(head.buffer);
    let at = 0;
    if (version !== 0) {
      v.setUint32(0, CHECKPOINT_MAGIC, true);
      v.setInt32(4, version, true);
      at = 8;
    }
    for (let i = 0; i < 7; i++) v.setInt32(at + 4 * i, ints[i]!, true);
    if (version !== 0) {
      v.setUint8(36, shared);
      v.setInt32(37, ints[7]!, true); // group size (v2)
    }
    return Uint8Array.of(...head, ...tail);
  });

function expectCodedOrValue(bytes: Uint8Array): void {
  const r = readOrCode(bytes);
  if (typeof r === 'string') expect(CODES).toContain(r);
}

describe('checkpoint reader (fuzz)', () => {
  it('arbitrary bytes: a checkpoint or a CHECKPOINT_* error', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), expectCodedOrValue), runs(3000));
  });

  it('hostile header fields (2^31 − 1 dims, zero and negative sizes): a coded error, nothing allocated for them', () => {
    fc.assert(fc.property(hostileHeader, expectCodedOrValue), runs(3000));
  });

  it('round trip: a written checkpoint of any small shape reads back the same', () => {
    fc.assert(
      fc.property(fileArb, ({ ck, version, bytes }) => {
        const back = readOrCode(bytes);
        if (typeof back === 'string') throw new Error(`a valid v${version} file failed with ${back}`);
        expect(back.config).toEqual(ck.config);
        expect(back.source).toEqual(version === 2 ? { version, groupSize: 2 } : { version });
        if (version !== 2) expectSameCheckpoint(ck, back);
        // v2 dequantizes: writing what was read and reading it again is a fixed point
        else expectSameCheckpoint(back, readCheckpoint(writeCheckpoint(back, { version: 2, groupSize: 2 })));
      }),
      runs(300),
    );
  });

  it('mutations of a valid file: header flips read or fail coded; any truncation or extension fails', () => {
    fc.assert(
      fc.property(
        fileArb,
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        fc.nat(),
        fc.integer({ min: 1, max: 9 }),
        (f, at, bit, cut, extra) => {
          const headerBytes = f.version === 0 ? V0_HEADER_BYTES : 41;
          const flipped = f.bytes.slice();
          flipped[at % headerBytes]! ^= 1 << bit;
          expectCodedOrValue(flipped);
          const truncated = readOrCode(f.bytes.subarray(0, cut % f.bytes.length));
          expect(['CHECKPOINT_TRUNCATED', 'CHECKPOINT_SIZE_MISMATCH', 'CHECKPOINT_BAD_HEADER']).toContain(
            truncated,
          );
          expect(readOrCode(Uint8Array.of(...f.bytes, ...new Uint8Array(extra)))).toBe(
            'CHECKPOINT_SIZE_MISMATCH',
          );
        },
      ),
      runs(300),
    );
  });

  it('reads the same weights from bytes at any offset, Uint8Array or Node Buffer', () => {
    fc.assert(
      fc.property(fileArb, fc.integer({ min: 1, max: 7 }), fc.boolean(), (f, shift, asBuffer) => {
        const backing = asBuffer
          ? Buffer.alloc(f.bytes.length + shift + 5, 0xa5)
          : new Uint8Array(f.bytes.length + shift + 5);
        backing.set(f.bytes, shift);
        const moved = backing.subarray(shift, shift + f.bytes.length);
        const a = readCheckpoint(f.bytes);
        const b = readCheckpoint(moved);
        expectSameCheckpoint(a, b);
        expect(b.source).toEqual(a.source);
      }),
      runs(200),
    );
  });

  it('regression: a v1 file in a Node Buffer at an odd offset reads its own weights', () => {
    // found by the fuzzer: the misaligned copy used Buffer#slice, which on a Buffer is a view, and read
    // fp32 values from the start of the whole backing store (or threw a RangeError)
    const config: ModelConfig = {
      dim: 2,
      hiddenDim: 1,
      nLayers: 1,
      nHeads: 1,
      nKvHeads: 1,
      vocabSize: 1,
      seqLen: 1,
      sharedClassifier: true,
    };
    const ck = synthesize(config, 1);
    const bytes = writeCheckpoint(ck, { version: 1 });
    const backing = Buffer.alloc(bytes.length + 3, 0xa5);
    backing.set(bytes, 1);
    expectSameCheckpoint(ck, readCheckpoint(backing.subarray(1, 1 + bytes.length)));
  });
});
