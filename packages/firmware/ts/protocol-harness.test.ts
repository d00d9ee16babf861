/**
 * The C link and sampler through scenarios of the `tp-protocol` harness: the link's timers (loss detection,
 * an overdue timer after a stall), the sliced sampler's histograms and draws against @tinypipe/core's
 * SliceSampling, and the receiver fuzzed under ASan + UBSan.
 */
import { SliceSampling, TOP_BUCKET } from '@tinypipe/core';
import { lebBytes } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { f32Hex, harness } from './protocol.test-helper.js';

describe('C link timers (tp-protocol scenarios)', () => {
  const { protocol } = buildPosixBoard();

  it('loss detection (protocol.md §4.0): frames sent before an acknowledged one are resent at once, once', () => {
    // DATA 0, 1, 2 at 0 ms; at 5 ms an ACK "expecting 0, have 2"; the same ACK again at 6 ms; all acked at
    // 16 ms. Without the rule 0 and 1 wait for the RTO (200 ms); resending them again on the repeated ACK
    // would be spurious. The TS link's twin is in transport-uart's reliable-link.test.ts.
    expect(harness(protocol, ['link-loss'])).toEqual(['open=1 sent: 0@0 1@0 2@0 0@5 1@5 retransmits=2']);
  });

  it('a timer found long overdue (the board was not polling) gives the answer another RTO; no RTT sample from it', () => {
    // DATA 0 at 0 ms, then no poll until 300 ms: the answer comes at 305 and nothing was resent. DATA 1 at
    // 305, never answered: resent after the initial RTO (50 ms; the stalled frame gave no sample), then 100.
    expect(harness(protocol, ['link-stall'])).toEqual(['open=1 sent: 0@0 1@305 1@355 1@455 retransmits=2']);
  });
});

describe('C sliced sampler (docs/numerics.md §10b): the same histograms and draws as @tinypipe/core', () => {
  const { protocol } = buildPosixBoard();
  /** Deterministic test logits: a spread, some ties, optionally far below the max (subnormal and zero e). */
  function logitsOf(n: number, seed: number, spread: number): Float32Array {
    let x = seed >>> 0;
    const r = () => {
      x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
      return x / 2 ** 32;
    };
    return Float32Array.from({ length: n }, (_, i) =>
      i % 17 === 3 ? 1.5 : Math.fround((r() - 0.5) * spread),
    );
  }
  const hex = (v: number) => f32Hex(v);
  const lebHex = (v: bigint) => Buffer.from(lebBytes(v)).toString('hex');
  const cases = [
    { n: 300, spread: 8, t: 1, topp: 0.9 },
    { n: 600, spread: 0.02, t: 1, topp: 0.9 }, // flat: many buckets
    { n: 400, spread: 400, t: 1, topp: 0.5 }, // e underflows: subnormal and zero values
    { n: 257, spread: 20, t: 0.3, topp: 0.99 },
    { n: 64, spread: 6, t: 0, topp: 0.9 },
    { n: 1, spread: 1, t: 2, topp: 0.9 },
  ];

  it('histograms from the top and below a bucket, and draws at targets across the nucleus', () => {
    const lines: string[] = [];
    const want: string[] = [];
    for (const [k, c] of cases.entries()) {
      const logits = logitsOf(c.n, k + 1, c.spread);
      const args = `${c.n} ${Array.from(logits, hex).join(' ')}`;
      const s = new SliceSampling(0, logits, c.t, Math.fround(c.topp));
      const { value: max, index } = s.max();
      for (const below of [TOP_BUCKET + 1, 0x3f4, 0x3e0, 0x3a0]) {
        const h = s.histogram(max, below);
        lines.push(`slice-hist ${hex(c.t)} ${hex(c.topp)} ${below} ${args}`);
        const masses = h.masses.map((m) => ` ${m}`).join('');
        want.push(`${index} ${h.top} ${h.masses.length} ${lebHex(h.rest)}${masses}`);
      }
      // targets: 0, across, and past the nucleus mass of a few buckets (units 2^-173)
      const whole = s.histogram(max);
      for (const bucket of [0, whole.top, Math.max(0, whole.top - 9)]) {
        let mass = 0n;
        for (const [j, m] of whole.masses.entries())
          if (whole.top - j >= bucket) mass += m << BigInt(Math.max((whole.top - j) >>> 3, 1) - 1);
        if (bucket === 0) mass += whole.rest;
        for (const target of [0n, (mass << 24n) / 3n, (mass << 24n) - 1n, mass << 24n]) {
          lines.push(`slice-draw ${hex(c.t)} ${bucket} ${lebHex(target)} ${args}`);
          want.push(String(s.draw(max, bucket, target)));
        }
      }
    }
    expect(harness(protocol, lines)).toEqual(want);
  });
});

describe('C receiver fuzzed under ASan + UBSan', () => {
  it('100,000 random and mutated frames in random chunks: no crash, no bad payload delivered', () => {
    const { protocol } = buildPosixBoard({ sanitize: true });
    const [line] = harness(protocol, ['fuzz 100000 12345']);
    const m = /^ok delivered=(\d+) dropped=(\d+) bad=(\d+)$/.exec(line!);
    expect(m, line).not.toBeNull();
    expect(Number(m![3])).toBe(0);
    expect(Number(m![1])).toBeGreaterThan(40_000); // the intact half, and mutations that did not matter
    expect(Number(m![2])).toBeGreaterThan(40_000);
  }, 300_000);
});
