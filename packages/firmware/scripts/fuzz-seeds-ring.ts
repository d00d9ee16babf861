/**
 * fuzz_ring's seeds (test/fuzz/fuzz_ring.c, its header comment gives the layout), for scripts/fuzz-seeds.ts:
 * board 0 driving a ring of two (mode bit 0 clear) or of one, with the image's tokenizer (bit 1 clear) or token
 * ids; the census, TOKENs, ERRORs and kinds the last board may send, console lines, board 1 going silent or
 * restarting, and the census reader on its own.
 */

type Token = (stream: number, pos: number, t: number) => Buffer;

const op = (tag: number, body: number[] | Uint8Array) =>
  Buffer.concat([Buffer.from([tag, body.length]), Buffer.from(body)]);
const ticks = (n: number, ms = 100) => Buffer.concat(Array.from({ length: n }, () => Buffer.from([1, ms])));
const census = (k: number, v: number) => Buffer.from([2, k, v]);
function errorMsg(stream: number, code: number, text: string) {
  const t = Buffer.from(text);
  const b = Buffer.alloc(5);
  b[0] = 7;
  b.writeUInt16LE(stream, 1);
  b.writeUInt16LE(code, 3);
  return Buffer.concat([b, t]);
}
const ring = (mode: number, ...ops: Buffer[]) => Buffer.concat([Buffer.from([mode]), ...ops]);
/** the census as board 0 reads it (ring.h): kind 32, 0xFFFF, count, 17-byte entries */
function censusBytes(entries: [number, number, number, number, number, number, number][]) {
  const b = Buffer.alloc(4 + 17 * entries.length);
  b[0] = 32;
  b.writeUInt16LE(0xffff, 1);
  b[3] = entries.length;
  for (const [i, [board, from, to, vFrom, vTo, streams, caps]] of entries.entries()) {
    const at = 4 + 17 * i;
    b.writeUInt16LE(board, at);
    b.writeUInt16LE(from, at + 2);
    b.writeUInt16LE(to, at + 4);
    b.writeUInt32LE(vFrom, at + 6);
    b.writeUInt32LE(vTo, at + 10);
    b.writeUInt16LE(streams, at + 14);
    b[at + 16] = caps;
  }
  return b;
}
const valid = censusBytes([
  [0, 0, 1, 0, 0, 2, 1],
  [1, 1, 2, 0, 16, 2, 6],
]);
// op 6's parameters: max, n_layers, vocab (u16), count, why_size
const alone = (max: number, layers: number, vocab: number, count: number, why: number, c: Uint8Array) =>
  op(6, Buffer.concat([Buffer.from([max, layers, vocab & 0xff, vocab >> 8, count, why]), c]));

/** The ring target's seeds, named; `token` writes a TOKEN message (the serve seeds' helper). */
export function ringSeeds(token: Token): [string, Uint8Array][] {
  return [
    ['ring-stories', ring(8 | 4, ticks(12))],
    ['ring-of-one', ring(9 | 4, ticks(4))],
    [
      'ring-ids-lines',
      ring(10 | 128, op(3, Buffer.from('1 4 5 7')), op(3, Buffer.from('/steps 4\r\n')), ticks(8)),
    ],
    [
      'settings',
      ring(
        8 | 128,
        op(3, Buffer.from('/temperature 0')),
        op(3, Buffer.from('/topp 2')),
        op(3, Buffer.from('/seed 18446744073709551615')),
        op(3, Buffer.from('the a é\n')),
        op(3, Buffer.from('x'.repeat(255))),
        ticks(8),
      ),
    ],
    ['bounded-one-lane', ring(8 | 16 | 64, ticks(16))],
    ['census-valid', ring(8 | 128, ticks(1, 1), census(0, 0), ticks(4))],
    ['census-count', ring(8 | 128, census(3, 1), ticks(2))],
    ['census-board', ring(8 | 128, census(21, 1), ticks(2))],
    ['census-layers', ring(8 | 128, census(23, 1), ticks(2))],
    ['census-vocab', ring(8 | 128, census(31, 1), ticks(2))],
    ['census-cannot-sample', ring(8 | 128, census(37, 4), ticks(2))],
    ['census-twice-round', ring(8 | 128, census(3, 0xfd), ticks(2))],
    [
      'tokens-injected',
      ring(
        8 | 128,
        ticks(4),
        op(0, token(0, 2, 5)),
        op(0, token(1, 3, 0xffffffff)),
        op(0, token(0xffff, 0, 1)),
        op(0, token(0, 2, 1).subarray(0, 8)),
        op(0, [0x7f, 1, 2]),
        op(0, [1, 0, 0]),
        ticks(4),
      ),
    ],
    [
      'errors-from-last',
      ring(
        8 | 128,
        ticks(4),
        op(0, errorMsg(0, 12, 'token out of range')),
        op(0, errorMsg(0xffff, 17, 'NaN')),
        op(0, errorMsg(0xffff, 15, 'board 1: board 2 is silent')),
        op(0, errorMsg(0xffff, 14, 'board 1: wrong model')),
        op(0, errorMsg(0xffff, 18, '')),
        op(0, [7, 0]),
        ticks(4),
      ),
    ],
    ['error-up-down-link', ring(8 | 128, ticks(4), op(4, errorMsg(0xffff, 15, 'board 0: silent')), ticks(2))],
    ['ring-of-one-errors', ring(9, op(0, errorMsg(1, 12, 'x'.repeat(240))), op(0, token(0, 1, 3)), ticks(2))],
    [
      'last-silent',
      ring(8 | 128, ticks(4), Buffer.from([5, 1]), ticks(40, 250), Buffer.from([5, 0]), ticks(8)),
    ],
    ['last-restarts', ring(8 | 128, ticks(4), Buffer.from([5, 2]), ticks(12))],
    // op 8: D's next link to board 1, whose tp_ring_step takes any census (no entries, count 255, too long)
    [
      'to-board-1',
      ring(
        8 | 128,
        op(
          8,
          censusBytes([
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
          ]),
        ),
        op(8, [32, 0xff, 0xff, 0xff]),
        op(8, [32, 0xff, 0xff, 0]),
        op(8, token(0, 0, 1)),
        ticks(4),
      ),
    ],
    ['miswired-whole-as-board-1', ring(8 | 4 | 32, ticks(24))],
    ['miswired-next-of-last', ring(8 | 4 | 48, ticks(24))],
    ['raw-line', ring(8 | 128, op(7, [0, 1, 2, 3, 0, 0xff, 0]), ticks(2))],
    ['census-alone-valid', ring(1, alone(64, 2, 16, 0, 160, valid))],
    ['census-alone-short-why', ring(1, alone(64, 3, 16, 0, 5, valid))],
    ['census-alone-over-max', ring(1, alone(1, 2, 16, 1, 160, valid))],
    ['census-alone-truncated', ring(1, alone(8, 2, 16, 2, 40, valid.subarray(0, 30)))],
  ];
}
