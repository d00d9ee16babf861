/** Shared fixtures of the image tests (image*.test.ts, build-id.test.ts). */
import { crc32c, TinypipeError } from '@tinypipe/protocol';
import { expect } from 'vitest';
import type { QuantTensor, StageWeights } from '../quant/types.js';
import type { StageSelection } from './types.js';

/** The error a call throws (fails the test when it does not throw a TinypipeError). */
export function caught(fn: () => unknown): TinypipeError {
  try {
    fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a TinypipeError, nothing was thrown');
}

export const u32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset).getUint32(at, true);
export const setU32 = (b: Uint8Array, at: number, v: number) =>
  new DataView(b.buffer, b.byteOffset).setUint32(at, v, true);

/** Recompute the header CRC the way docs/image-format.md §3 defines it, so forged tables get past it. */
export function reseal(b: Uint8Array): Uint8Array {
  const tableEnd = 256 + u32(b, 0x6c) * 64;
  setU32(b, 0x0c, crc32c(b.subarray(16, tableEnd), crc32c(b.subarray(0, 12))));
  return b;
}

export const FULL: StageSelection = { layers: [0, 3], embedding: true, classifier: true };

export function sameQuant(a: QuantTensor, b: QuantTensor): void {
  expect({ ...a, data: [...a.data], scales: [...a.scales] }).toEqual({
    ...b,
    data: [...b.data],
    scales: [...b.scales],
  });
}

export function expectSameStage(a: StageWeights, b: StageWeights): void {
  expect(a.config).toEqual(b.config);
  expect([a.kind, a.groupSize, [...a.fingerprint], a.layerRange]).toEqual([
    b.kind,
    b.groupSize,
    [...b.fingerprint],
    b.layerRange,
  ]);
  expect(a.layers.length).toBe(b.layers.length);
  a.layers.forEach((L, i) => {
    const M = b.layers[i];
    if (!M) throw new Error('missing layer');
    expect([...L.rmsAtt]).toEqual([...M.rmsAtt]);
    expect([...L.rmsFfn]).toEqual([...M.rmsFfn]);
    for (const k of ['wq', 'wk', 'wv', 'wo', 'w1', 'w2', 'w3'] as const) sameQuant(L[k], M[k]);
  });
  expect(a.embedding === undefined).toBe(b.embedding === undefined);
  if (a.embedding && b.embedding) sameQuant(a.embedding, b.embedding);
  expect(a.classifier === undefined).toBe(b.classifier === undefined);
  if (a.classifier && b.classifier) {
    expect(a.classifier.vocab).toEqual(b.classifier.vocab);
    expect([...a.classifier.rmsFinal]).toEqual([...b.classifier.rmsFinal]);
    sameQuant(a.classifier.wcls, b.classifier.wcls);
  }
  expect(a.rope === undefined).toBe(b.rope === undefined);
  if (a.rope && b.rope) {
    expect([...a.rope.cos]).toEqual([...b.rope.cos]);
    expect([...a.rope.sin]).toEqual([...b.rope.sin]);
  }
}
