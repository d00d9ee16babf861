/** The demo's `--hashes` check: the boards' layer hashes against the host run's, position by position. */
import { describe, expect, it } from 'vitest';
import { BoardHashes } from './hashes.js';

/** Reports `row` for `stream` at `pos`, split over two boards at layer `cut` as a 2-board pipeline does. */
function report(h: BoardHashes, stream: number, pos: number, row: number[], cut = 1) {
  h.onHashes({ stream, pos, layerFrom: 0, hashes: Uint32Array.from(row.slice(0, cut)) });
  h.onHashes({ stream, pos, layerFrom: cut, hashes: Uint32Array.from(row.slice(cut)) });
}

const host = (rows: number[][]) => new Map(rows.map((r, pos) => [pos, r]));

describe('BoardHashes', () => {
  const a = [
    [1, 2, 3],
    [4, 5, 6],
  ];
  const b = [
    [7, 8, 9],
    [10, 11, 12],
  ];

  it('matches rows joined from the boards that computed them, one stream or several in any order', () => {
    const one = new BoardHashes();
    a.forEach((row, pos) => {
      report(one, 0, pos, row);
    });
    expect(one.matches([host(a)], 3)).toBe(true);
    const two = new BoardHashes();
    // stream 1 ran the first story, stream 0 the second: the pipeline does not say which
    a.forEach((row, pos) => {
      report(two, 1, pos, row, 2);
    });
    b.forEach((row, pos) => {
      report(two, 0, pos, row);
    });
    expect(two.matches([host(a), host(b)], 3)).toBe(true);
  });

  it('a resume reporting a position again: the last report counts', () => {
    const h = new BoardHashes();
    report(h, 0, 0, [9, 9, 9]);
    a.forEach((row, pos) => {
      report(h, 0, pos, row);
    });
    expect(h.matches([host(a)], 3)).toBe(true);
  });

  it('refuses one differing hash, a layer no board reported, a missing or extra position, and no reports', () => {
    const differs = new BoardHashes();
    report(differs, 0, 0, a[0]!);
    report(differs, 0, 1, [4, 5, 7]);
    expect(differs.matches([host(a)], 3)).toBe(false);

    const hole = new BoardHashes();
    report(hole, 0, 0, a[0]!);
    hole.onHashes({ stream: 0, pos: 1, layerFrom: 1, hashes: Uint32Array.from([5, 6]) }); // layer 0 missing
    expect(hole.matches([host(a)], 3)).toBe(false);

    const short = new BoardHashes();
    report(short, 0, 0, a[0]!);
    expect(short.matches([host(a)], 3)).toBe(false);

    const extra = new BoardHashes();
    [...a, [1, 1, 1]].forEach((row, pos) => {
      report(extra, 0, pos, row);
    });
    expect(extra.matches([host(a)], 3)).toBe(false);

    const swapped = new BoardHashes(); // the rows of two stories crossed at one position
    report(swapped, 0, 0, a[0]!);
    report(swapped, 0, 1, b[1]!);
    report(swapped, 1, 0, b[0]!);
    report(swapped, 1, 1, a[1]!);
    expect(swapped.matches([host(a), host(b)], 3)).toBe(true); // compared per position, as documented
    report(swapped, 1, 1, [4, 5, 0]);
    expect(swapped.matches([host(a), host(b)], 3)).toBe(false);

    expect(new BoardHashes().matches([host(a)], 3)).toBe(false);
    expect(new BoardHashes().matches([], 3)).toBe(false);
  });
});
