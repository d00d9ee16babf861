/**
 * `connectBoards` against in-memory boards behind a real handshake: each board's `Transport` is one end of
 * an in-memory pair whose other end a board-side `ReliableLink.accept` serves, relaying to a `memoryBoard`.
 */
import { generateText, QuantEngine } from '@tinypipe/core';
import { type BoardManifest, buildPlan } from '@tinypipe/partitioner';
import { TinypipeError } from '@tinypipe/protocol';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { planBoards, qm, tokenizer, twoBoardPlan } from '../testing/stories.test-helper.js';
import { connectBoards } from './connect-boards.js';
import { line } from './line.test-helper.js';

const plan = twoBoardPlan();
const manifests: BoardManifest[] = buildPlan(plan, qm).map((b) => b.manifest);
const bytes = (hex: string) => Uint8Array.from(hex.match(/../g)!, (h) => Number.parseInt(h, 16));

/** The plan's boards in memory, their images of build `build` (hex; default the manifests'). */
const boardsOf = (build = manifests[0]!.build) => planBoards(plan, bytes(build));

const story = async (steps: number) =>
  (
    await generateText({
      engine: QuantEngine.fromModel(qm),
      tokenizer,
      sampler: { sample: (l) => l.indexOf(Math.max(...l)) },
      prompt: 'Once upon a time',
      steps,
    })
  ).tokens;

describe('connectBoards', () => {
  it("opens each board of a build, shakes hands expecting what its manifest says, and runs the plan's pipeline", async () => {
    const boards = boardsOf();
    const opened: [number, string][] = [];
    const pipeline = await connectBoards({
      plan,
      manifests,
      open: async (board, uart) => {
        opened.push([board, uart]);
        return line(boards[board]!).transport;
      },
    });
    expect(opened).toEqual([
      [0, 'first'],
      [1, 'first'],
    ]);
    const got: number[] = [];
    try {
      for await (const t of pipeline.generate({
        tokenizer,
        sampling: { temperature: 0, topp: 1, seed: 1 },
        prompt: 'Once upon a time',
        steps: 30,
      }))
        got.push(t.token);
    } finally {
      await pipeline.close();
    }
    expect(got).toEqual(await story(30));
  });

  it('without manifests: the fingerprint given, any one build', async () => {
    const boards = boardsOf('0000000000000abc');
    const pipeline = await connectBoards({
      plan,
      fingerprint: qm.fingerprint,
      open: async (board) => line(boards[board]!).transport,
    });
    expect(pipeline.streams).toBe(2);
    await pipeline.close();
  });

  it('a board of another build is refused in its handshake (MIXED_BUILD); the line already opened is closed again', async () => {
    const boards = [...boardsOf().slice(0, 1), ...boardsOf('00000000000000ff').slice(1)];
    const lines = boards.map(line);
    const e = await connectBoards({
      plan,
      manifests,
      open: async (board) => lines[board]!.transport,
      link: { handshakeTimeoutMs: 1000 },
    }).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'MIXED_BUILD')).toBe(true);
    await Promise.all(lines.map((l) => l.closed)); // both lines closed: none is left open
  });

  it('a board that cannot be opened: its error, and the others closed again', async () => {
    const boards = boardsOf();
    const first = line(boards[0]!);
    const e = await connectBoards({
      plan,
      manifests,
      open: async (board) => {
        if (board === 1) throw new TinypipeError('PORT_DISCONNECTED', 'no such port');
        return first.transport;
      },
    }).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'PORT_DISCONNECTED')).toBe(true);
    await first.closed;
  });

  it('manifests of another plan, or too few, are refused before any board is opened', async () => {
    let opens = 0;
    const open = async () => {
      opens++;
      return line(boardsOf()[0]!).transport;
    };
    const swapped = [manifests[1]!, manifests[0]!];
    expect(await errorCodeOf(() => connectBoards({ plan, manifests: swapped, open }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(await errorCodeOf(() => connectBoards({ plan, manifests: manifests.slice(0, 1), open }))).toBe(
      'INVALID_ARGUMENT',
    );
    expect(
      await errorCodeOf(() =>
        connectBoards({ plan, manifests, fingerprint: new Uint8Array(32).fill(1), open }),
      ),
    ).toBe('INVALID_ARGUMENT');
    expect(await errorCodeOf(() => connectBoards({ plan, open }))).toBe('INVALID_ARGUMENT');
    expect(opens).toBe(0);
  });
});
