/** What `Pipeline.connect` (and a reconnect) verifies before anything is sent: the links against the plan. */

import type { Link } from '@tinypipe/protocol';
import { TinypipeError } from '@tinypipe/protocol';
import type { PipelinePlan } from './plan.js';

const hex = (b: Uint8Array | undefined) =>
  b ? Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('') : 'none';

/**
 * WRONG_MODEL (naming the board) unless `link`'s HELLO is the board `want` of the plan: the model, its
 * layers and classifier rows, the embedding, and the KV cache format (HELLO `caps` bits 3–4).
 */
export function checkBoard(link: Link, plan: PipelinePlan, board: number): void {
  const peer = link.peer;
  const want = plan.stages[board]!;
  if (!peer)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${board}: its link has not shaken hands (use ReliableLink.connect)`,
    );
  const wrong: string[] = [];
  if (hex(peer.fingerprint) !== hex(plan.fingerprint))
    wrong.push(
      `model ${hex(peer.fingerprint).slice(0, 16)}…, the plan's is ${hex(plan.fingerprint).slice(0, 16)}…`,
    );
  if (peer.layers?.[0] !== want.layers[0] || peer.layers?.[1] !== want.layers[1])
    wrong.push(`layers [${peer.layers?.join(', ')}), the plan says [${want.layers.join(', ')})`);
  const v = want.vocab ?? [0, 0];
  if ((peer.vocab?.[0] ?? 0) !== v[0] || (peer.vocab?.[1] ?? 0) !== v[1])
    wrong.push(`classifier rows [${peer.vocab?.join(', ')}), the plan says [${v.join(', ')})`);
  if (want.embedding && !peer.caps.embedding) wrong.push('no embedding, the plan puts it here');
  const kv = plan.kv ?? 'fp32';
  if ((peer.caps.kv ?? 'fp32') !== kv)
    wrong.push(`a KV cache of format ${peer.caps.kv ?? 'fp32'}, the plan's is ${kv}`);
  if (wrong.length)
    throw new TinypipeError(
      'WRONG_MODEL',
      `board ${board} holds ${wrong.join('; ')}: flash it with its image of this plan`,
      { details: { board } },
    );
  if (!(peer.streams >= 1))
    throw new TinypipeError('INVALID_ARGUMENT', `board ${board} reports room for no stream`);
}

/**
 * MIXED_BUILD unless the boards are of one build (docs/reliability.md): every board that reports a build
 * id reports the same one, and it is `plan.build` when that is given (then a board without one — a
 * version-1 or unstamped image — is refused too). Names each board and its build.
 */
export function checkBuilds(links: readonly Link[], plan: PipelinePlan, boards: readonly number[]): void {
  const reported = links.map((l, i) => ({ board: boards[i]!, build: hex(l.peer?.build) }));
  const builds = new Set(reported.filter((r) => r.build !== 'none').map((r) => r.build));
  const expected = plan.build ? hex(plan.build) : undefined;
  const mixed = expected ? reported.some((r) => r.build !== expected) : builds.size > 1;
  if (!mixed) return;
  const each = reported.map((r) => `board ${r.board}: build ${r.build}`).join(', ');
  throw new TinypipeError(
    'MIXED_BUILD',
    `the boards are not of one build (${each}${expected ? `; this build is ${expected}` : ''}): flash every board from the same \`tinypipe build\` directory`,
    { details: { expected: expected ?? [...builds][0], actual: reported } },
  );
}

/**
 * Everything `Pipeline.connect` checks before anything is sent: the number of links for the topology, a
 * plan whose last board holds the whole classifier, each board's HELLO (`checkBoard`) and one build
 * (`checkBuilds`). Returns the board at each link's end (star: every board; chain: the first and the last).
 */
export function checkLinks(links: readonly Link[], plan: PipelinePlan, chain: boolean): number[] {
  const n = plan.stages.length;
  if (chain ? links.length !== 2 : links.length !== n)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      chain
        ? `a chain takes two links (to the first board, and from the last board's second port), ${links.length} were given`
        : `the plan has ${n} boards, ${links.length} links were given`,
    );
  // the classifier: the whole of it on the last board, or (star) consecutive slices on the last boards
  const holders = plan.stages.flatMap((s, i) => (s.vocab && s.vocab[1] > s.vocab[0] ? [i] : []));
  let next = 0;
  for (const [k, i] of holders.entries()) {
    const v = plan.stages[i]!.vocab!;
    if (i !== n - holders.length + k || v[0] !== next)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        'the classifier must be held by the last board, or split into consecutive slices over the last boards',
      );
    next = v[1];
  }
  if (next !== plan.config.vocabSize)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `the plan's classifier rows cover [0, ${next}), the vocab has ${plan.config.vocabSize}`,
    );
  if (chain && holders.length > 1)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      'a split classifier runs in a star topology (the host sends the final activation to each slice); plan a chain with --no-split-classifier',
    );
  const boards = chain ? [0, n - 1] : links.map((_, i) => i);
  for (const [i, link] of links.entries()) checkBoard(link, plan, boards[i]!);
  checkBuilds(links, plan, boards);
  return boards;
}
