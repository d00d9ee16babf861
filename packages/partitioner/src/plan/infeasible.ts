/**
 * When nothing fits: what does not fit where and by how much, and the smallest changes to the request
 * that would fit.
 */
import type { QuantKind } from '@tinypipe/core';
import { footprint, partitionBytes } from '../cost/cost.js';
import { BUILTIN_PROFILES } from '../profiles/profiles.js';
import { solve } from '../solver/solve.js';
import { mb } from './format.js';
import { type PlanRequest, problem } from './request.js';

/** Why nothing fits: the whole model on the boards' totals, and each board's problems with an even split. */
export function explain(req: PlanRequest): string {
  const c = req.model.config;
  const B = req.boards.length;
  const whole = footprint(
    req.model,
    { layers: [0, c.nLayers], embedding: true, vocab: [0, c.vocabSize] },
    req.boards[0]!,
    {
      streams: req.streams ?? 1,
    },
  );
  const flash = req.boards.reduce((a, b) => a + partitionBytes(b), 0);
  const psram = req.boards.reduce((a, b) => a + Math.max(0, b.psramBytes - b.psramReserveBytes), 0);
  const lines = [
    `${req.model.name} ${req.model.kind} needs ${mb(whole.imageBytes)} of weights and ${mb(whole.psramNeeded)} of PSRAM (KV cache for ${req.streams ?? 1} stream(s), seq_len ${c.seqLen});`,
    `${B}× board${B > 1 ? 's' : ''} (${req.boards.map((b) => b.name).join(', ')}) offer${B > 1 ? '' : 's'} ${mb(flash)} of model partition and ${mb(psram)} of PSRAM`,
  ];
  if (B === 1) lines.push(`— on ${req.boards[0]!.name}: ${whole.problems.join('; ')}`);
  return lines.join(' ');
}

interface Change {
  what: string[];
  /** How big a change it is: changed dimensions first, then boards added, then seq_len halvings. */
  size: [number, number, number];
}

/**
 * The smallest change that makes the request fit: q4 instead of q8, more boards like the last one (up
 * to five, or one more than there are), the biggest module of the chip, a shorter seq_len — alone
 * first, then combined. Returns the smallest few, smallest first.
 */
export function fixes(req: PlanRequest): string[] {
  const c = req.model.config;
  const last = req.boards[req.boards.length - 1]!;
  const biggest = [...Object.values(BUILTIN_PROFILES)]
    .filter((p) => p.chip === last.chip)
    .sort((a, b) => b.flashBytes + b.psramBytes - (a.flashBytes + a.psramBytes))[0]!;
  const kinds: QuantKind[] = req.model.kind === 'q8' ? ['q8', 'q4'] : [req.model.kind];
  const modules = req.boards.every((b) => b.name === biggest.name) ? [false] : [false, true];
  const maxBoards = Math.min(c.nLayers + 1, Math.max(5, req.boards.length + 1));
  const seqLens: number[] = [];
  for (let n = c.seqLen; n >= 32; n >>= 1) seqLens.push(n);
  const found: Change[] = [];
  for (const kind of kinds)
    for (const bigger of modules)
      for (let extra = 0; req.boards.length + extra <= maxBoards; extra++)
        for (const [halvings, seqLen] of seqLens.entries()) {
          const changed =
            (kind !== req.model.kind ? 1 : 0) + (bigger ? 1 : 0) + (extra ? 1 : 0) + (halvings ? 1 : 0);
          if (changed === 0) continue;
          const base = bigger ? req.boards.map(() => biggest) : [...req.boards];
          const boards = [...base, ...Array.from({ length: extra }, () => (bigger ? biggest : last))];
          const r: PlanRequest = { ...req, boards, model: { ...req.model, kind, config: { ...c, seqLen } } };
          if (!solve(problem(r))) continue;
          const what: string[] = [];
          if (kind !== req.model.kind) what.push('use q4 instead of q8');
          if (bigger) what.push(`use ${biggest.name} modules`);
          if (extra) what.push(`add ${extra} more ${bigger ? biggest.name : last.name}`);
          if (halvings) what.push(`shorten seq_len to ${seqLen}`);
          found.push({ what, size: [changed, extra, halvings] });
          break; // a longer seq_len is a smaller change: stop halving
        }
  found.sort((x, y) => x.size[0] - y.size[0] || x.size[1] - y.size[1] || x.size[2] - y.size[2]);
  return found.slice(0, 3).map((f) => f.what.join(' and '));
}
