/**
 * What the host checks in a board's answers before using them (docs/protocol.md §5.2): the host trusts no
 * board. A lie fails the stream it concerns with a coded error (BAD_REPLY, NONFINITE) and leaves nothing
 * half-written: logits are handed over only once every row of the vocab arrived exactly once.
 */

import type { Message } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';

type Logits = Extract<Message, { kind: 'logits' }>;

/** Where an answer came from, for the messages. */
export interface ReplyOrigin {
  board: number;
  stream: number;
  pos: number;
}

const where = (o: ReplyOrigin) => `board ${o.board} (stream ${o.stream}, position ${o.pos})`;

export function badReply(o: ReplyOrigin, what: string, details: Record<string, unknown> = {}): TinypipeError {
  return new TinypipeError(
    'BAD_REPLY',
    `${where(o)} ${what}: its firmware or image does not match this host; reflash it (or replace it) and run again`,
    { details: { board: o.board, stream: o.stream, pos: o.pos, ...details } },
  );
}

/** NONFINITE unless every value is finite. */
export function checkFinite(o: ReplyOrigin, values: Float32Array, what: string, offset = 0): void {
  for (let i = 0; i < values.length; i++)
    if (!Number.isFinite(values[i]))
      throw new TinypipeError(
        'NONFINITE',
        `${where(o)} sent ${values[i]} in its ${what} at ${offset + i}: the stream cannot go on (docs/numerics.md §3a); check its image and weights`,
        { details: { board: o.board, stream: o.stream, pos: o.pos, index: offset + i } },
      );
}

/**
 * The LOGITS slices of one position, in arrival order: each must start where the last ended (a reliable
 * link keeps order), none past the vocab, until `[0, vocab)` is covered once. Memory: one vocab of floats.
 */
export class LogitsAssembly {
  readonly logits: Float32Array;
  #covered = 0;

  constructor(
    readonly origin: ReplyOrigin,
    vocab: number,
  ) {
    this.logits = new Float32Array(vocab);
  }

  get complete(): boolean {
    return this.#covered === this.logits.length;
  }

  /** Takes the next slice; BAD_REPLY or NONFINITE (naming what is wrong) when it does not fit. */
  add(m: Logits): void {
    const from = m.vocabFrom;
    const to = from + m.logits.length;
    const vocab = this.logits.length;
    const slice = { vocabFrom: from, rows: m.logits.length };
    if (m.logits.length === 0)
      throw badReply(this.origin, `sent an empty LOGITS slice at row ${from}`, slice);
    if (to > vocab)
      throw badReply(this.origin, `sent LOGITS rows [${from}, ${to}) past the vocab (${vocab} rows)`, slice);
    if (from > this.#covered)
      throw badReply(
        this.origin,
        `left a gap in its LOGITS: rows [${this.#covered}, ${from}) never came (the next slice starts at ${from})`,
        slice,
      );
    if (from < this.#covered)
      throw badReply(
        this.origin,
        `sent LOGITS rows [${from}, ${to}) overlapping rows it already sent (up to ${this.#covered})`,
        slice,
      );
    checkFinite(this.origin, m.logits, 'logits', from);
    this.logits.set(m.logits, from);
    this.#covered = to;
  }
}
