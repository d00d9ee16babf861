/**
 * How a request crosses the boards (docs/protocol.md §4.4). `star`: every board on its own link — the host
 * sends a TOKEN to the first board and relays each ACTIVATION to the next. `chain`: the host holds two
 * links, to the first board (START, TOKEN, END go in) and from the last (TOKEN / LOGITS come out).
 */
import type { Message } from '@tinypipe/protocol';
import type { Answer, BoardPort } from './board-port.js';
import type { EmbeddingSource } from './embedder.js';
import type { Topology } from './plan.js';
import { badReply } from './replies.js';

/** The last board's answer to a position: its logits (every row), or its sampled TOKEN. */
export type PositionAnswer = { logits: Float32Array } | { token: number };

/** What START carries besides its stream and whether a board samples. */
export type StartFields = Omit<Extract<Message, { kind: 'start' }>, 'kind' | 'stream' | 'sample'>;

/**
 * Chain: the first board's link carries only ERRORs back (a board whose next board is gone): they are the
 * answer the last board will never send, so they fail the request waiting on the last link.
 */
export function wireChain(ports: readonly BoardPort[]): void {
  const [first, last] = ports as [BoardPort, BoardPort];
  first.onError = (stream, e) => {
    if (stream === -1) last.rejectAll(e);
    else last.reject(stream, e);
  };
  first.onFailure = (e) => last.rejectAll(e);
}

/**
 * `token` at `pos` through every board: the last board's answer (its logits, or its sampled TOKEN). The
 * first board gets TOKEN, or — `embedding` says where else the row comes from — `ACTIVATION(row)`: the
 * host's embedder's, or (star) the one the board holding the embedding answers a TOKEN with.
 */
export async function runPosition(
  topology: Topology,
  ports: readonly BoardPort[],
  stream: number,
  token: number,
  pos: number,
  /** A split classifier (star): the last stage answers the final activation, this samples from it. */
  sliced?: (x: Float32Array) => Promise<PositionAnswer>,
  embedding?: EmbeddingSource,
): Promise<PositionAnswer> {
  const last = ports[ports.length - 1]!;
  let first: Message & { stream: number; pos: number } = { kind: 'token', stream, pos, token };
  if (embedding && 'embed' in embedding) first = { ...first, kind: 'activation', x: embedding.embed(token) };
  else if (embedding) {
    const row = await ports[embedding.board]!.request(first);
    if (row.kind !== 'activation')
      throw badReply(
        { board: embedding.board, stream, pos },
        `answered a TOKEN with ${row.kind}, not its row`,
      );
    first = { kind: 'activation', stream, pos, x: row.x };
  }
  let answer: Answer;
  if (topology === 'chain') answer = await ports[0]!.request(first, last);
  else {
    answer = await ports[0]!.request(first);
    for (const b of ports.slice(1)) {
      if (answer.kind !== 'activation')
        throw badReply({ board: b.board - 1, stream, pos }, `answered ${answer.kind}, not ACTIVATION`);
      answer = await b.request({ kind: 'activation', stream, pos, x: answer.x });
    }
  }
  if (answer.kind === 'activation' && sliced) return sliced(answer.x);
  if (answer.kind === 'token') return { token: answer.token };
  if (answer.kind !== 'logits')
    throw badReply({ board: last.board, stream, pos }, `answered ${answer.kind}, not LOGITS or TOKEN`);
  return { logits: answer.logits }; // every row, checked as the slices came (BoardPort.next)
}

/** START on every board (star) or on the first, which relays it down the chain. */
export async function startStream(
  topology: Topology,
  ports: readonly BoardPort[],
  stream: number,
  start: StartFields,
  sample: boolean,
  /** A split classifier (star): the boards holding its slices, which sample with the host. */
  slices?: ReadonlySet<number>,
): Promise<void> {
  const to = topology === 'chain' ? [ports[0]!] : ports;
  for (const [i, b] of to.entries())
    await b.send({
      kind: 'start',
      stream,
      ...start,
      // only the last board samples (in a chain every board sees the flag; only the classifier's holder acts)
      sample: sample && (topology === 'chain' || i === to.length - 1),
      ...(slices?.has(i) ? { sliced: true } : {}),
    });
}
