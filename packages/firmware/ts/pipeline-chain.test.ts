/**
 * The pipeline end to end on simulated boards, chain topology: board to board over PTYs, the host holding
 * links only to the first board and to the last one's second port. Host- and board-sampled tokens must equal
 * the unsplit host run exactly, STATS travels down the chain, two generations flow at once. Faults in a chain
 * (a board killed, a middle board with the wrong layers) are in pipeline-faults.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { chainOf, host, qm, stagesOf, tokensOf } from './pipeline.test-helper.js';

describe('Pipeline on simulated boards (chain topology: board to board, the host at both ends)', () => {
  for (const split of [[5], [2, 3], [1, 2, 2], [1, 1, 1, 2], [1, 1, 1, 1, 1]]) {
    it(`${split.length} board(s) (${split.join('+')} layers): host- and board-sampled tokens equal the host run`, async () => {
      const pipeline = await chainOf(qm, split);
      expect(pipeline.topology).toBe('chain');
      for (const [temperature, seed] of [
        [0, 1],
        [0.8, 42],
      ] as const) {
        expect(await tokensOf(pipeline, { temperature, seed, steps: 96, onBoard: false })).toEqual(
          (await host(temperature, seed, 96)).tokens,
        );
        expect(await tokensOf(pipeline, { temperature, seed, steps: 96, onBoard: true })).toEqual(
          (await host(temperature, seed, 96, 'spec')).tokens,
        );
      }
      // the host relays nothing: the first board's link only carries requests in, the last's answers out
      const [first, last] = pipeline.stats();
      expect(first!.board).toBe(0);
      expect(last!.board).toBe(split.length - 1);
      expect(last!.messages).toBeGreaterThan(0);
      // STATS travels down the chain: the boards the host has no link to answer too
      const own = await pipeline.boardStats();
      expect(own.map((b) => [b.board, b.layers, b.forwards])).toEqual(
        stagesOf(split).map((layers, i) => [i, layers, last!.messages]),
      );
      expect(own.every((b) => b.computeMs > 0 && b.bytesIn > 0 && b.bytesOut > 0)).toBe(true);
      await pipeline.close();
    }, 120_000);
  }

  it('two generations at once flow through the chain, each equal to its host run', async () => {
    const pipeline = await chainOf(qm, [2, 3]);
    const [a, b] = await Promise.all([
      tokensOf(pipeline, { temperature: 0.8, seed: 7, steps: 64, onBoard: true }),
      tokensOf(pipeline, { temperature: 0.8, seed: 8, steps: 64, onBoard: true }),
    ]);
    expect(a).toEqual((await host(0.8, 7, 64, 'spec')).tokens);
    expect(b).toEqual((await host(0.8, 8, 64, 'spec')).tokens);
    await pipeline.close();
  }, 120_000);
});
