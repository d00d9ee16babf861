import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { checkFinite, LogitsAssembly } from './replies.js';

const at = { board: 2, stream: 1, pos: 7 };
const slice = (from: number, to: number) => ({
  kind: 'logits' as const,
  stream: 1,
  pos: 7,
  vocabFrom: from,
  logits: Float32Array.from({ length: to - from }, (_, i) => from + i),
});

describe('LogitsAssembly', () => {
  it('joins slices of any sizes that cover the vocab once, in order, and is complete only at the end', () => {
    const a = new LogitsAssembly(at, 300);
    for (const [from, to] of [
      [0, 1],
      [1, 128],
      [128, 256],
      [256, 299],
    ] as const) {
      a.add(slice(from, to));
      expect(a.complete).toBe(false);
    }
    a.add(slice(299, 300));
    expect(a.complete).toBe(true);
    expect(a.logits).toEqual(Float32Array.from({ length: 300 }, (_, i) => i));
  });

  it('refuses a gap, an overlap, a repeat, an empty slice or rows past the vocab, whatever came before', async () => {
    const after = (first: [number, number] | null, next: [number, number]) => () => {
      const a = new LogitsAssembly(at, 300);
      if (first) a.add(slice(...first));
      a.add(slice(...next));
    };
    expect(await errorCodeOf(after(null, [1, 300]))).toBe('BAD_REPLY'); // row 0 missing
    expect(await errorCodeOf(after([0, 100], [101, 300]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after([0, 100], [99, 300]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after([0, 100], [0, 100]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after([0, 100], [100, 100]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after([0, 100], [100, 301]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after(null, [0, 0x10000]))).toBe('BAD_REPLY');
    expect(await errorCodeOf(after([0, 100], [100, 300]))).toBeUndefined();
    expect(after(null, [0, 301])).toThrow(
      /^board 2 \(stream 1, position 7\) sent LOGITS rows \[0, 301\) past the vocab \(300 rows\): .*reflash it/,
    );
  });

  it('NONFINITE for NaN, ±Inf; the largest finite float32 passes', async () => {
    for (const v of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
      expect(await errorCodeOf(() => checkFinite(at, Float32Array.of(0, v), 'logits'))).toBe('NONFINITE');
    expect(
      await errorCodeOf(() =>
        checkFinite(at, Float32Array.of(3.4028234663852886e38, -3.4028234663852886e38), 'x'),
      ),
    ).toBeUndefined();
  });
});
