/**
 * `Pipeline.connect` refuses boards of different builds (docs/reliability.md §3): every board that reports
 * a build id must report the same one, and the caller's when it gives one — MIXED_BUILD naming each board
 * and its build, before anything is sent.
 */

import { TINY_CONFIG } from '@tinypipe/core/testing';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { fakeBoard } from '../testing/fake-board.test-helper.js';
import { Pipeline, type PipelinePlan } from './pipeline.js';

const L = TINY_CONFIG.nLayers;
const V = TINY_CONFIG.vocabSize;
const A = Uint8Array.of(0xa0, 1, 2, 3, 4, 5, 6, 7);
const B = Uint8Array.of(0xb0, 1, 2, 3, 4, 5, 6, 7);
const plan: PipelinePlan = {
  config: TINY_CONFIG,
  fingerprint: new Uint8Array(32).fill(3),
  stages: [
    { layers: [0, 1], embedding: true, vocab: null },
    { layers: [1, L], embedding: false, vocab: [0, V] },
  ],
};

/** Two boards of the plan reporting these builds; `sent` counts what reached them. */
function boards(first: Uint8Array | undefined, last: Uint8Array | undefined) {
  const sent: unknown[] = [];
  const answer = (m: unknown) => {
    sent.push(m);
    return [];
  };
  return {
    sent,
    links: [
      fakeBoard({ board: 0, layers: [0, 1], vocab: undefined, build: first }, answer),
      fakeBoard({ board: 1, layers: [1, L], build: last }, answer),
    ],
  };
}

function refusal(fn: () => unknown): TinypipeError {
  try {
    fn();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('Pipeline.connect and build ids', () => {
  it('refuses boards reporting different builds, naming each board and its build, and sends nothing', () => {
    const { links, sent } = boards(A, B);
    const e = refusal(() => Pipeline.connect(links, plan));
    expect(e.code).toBe('MIXED_BUILD');
    expect(e.message).toContain('board 0: build a001020304050607');
    expect(e.message).toContain('board 1: build b001020304050607');
    expect(e.details?.actual).toEqual([
      { board: 0, build: 'a001020304050607' },
      { board: 1, build: 'b001020304050607' },
    ]);
    expect(sent).toEqual([]);
  });

  it('accepts one build, and boards without a build id beside it when no build is expected', () => {
    expect(Pipeline.connect(boards(A, A).links, plan).streams).toBe(2);
    expect(Pipeline.connect(boards(A, undefined).links, plan).streams).toBe(2);
    expect(Pipeline.connect(boards(undefined, undefined).links, plan).streams).toBe(2);
  });

  it('with the expected build given, refuses a board of another build or of none', () => {
    expect(Pipeline.connect(boards(A, A).links, { ...plan, build: A }).streams).toBe(2);
    const other = refusal(() => Pipeline.connect(boards(A, B).links, { ...plan, build: A }));
    expect(other.code).toBe('MIXED_BUILD');
    expect(other.message).toContain('this build is a001020304050607');
    const none = refusal(() => Pipeline.connect(boards(A, undefined).links, { ...plan, build: A }));
    expect(none.code).toBe('MIXED_BUILD');
    expect(none.message).toContain('board 1: build none');
    // both boards of build B, the caller expecting A: both are named
    const both = refusal(() => Pipeline.connect(boards(B, B).links, { ...plan, build: A }));
    expect(both.message).toMatch(/board 0: build b0.*board 1: build b0/);
  });

  it('a wrong model is still WRONG_MODEL (checked before the build)', () => {
    const { links } = boards(A, B);
    const e = refusal(() => Pipeline.connect(links, { ...plan, fingerprint: new Uint8Array(32).fill(9) }));
    expect(e.code).toBe('WRONG_MODEL');
  });
});
