/**
 * When nothing fits: what does not fit where and by how much, and the smallest changes to the request
 * that would fit.
 */
import type { QuantKind } from '@tinypipe/core';
import { footprint, partitionBytes } from '../cost/cost.js';
import { KV_FORMATS, type KvFormat, kvBytesPerPosition } from '../cost/kv.js';
import { BUILTIN_PROFILES } from '../profiles/profiles.js';
import { solve } from '../solver/solve.js';
import { mb } from './format.js';
import { problem, type ResolvedRequest } from './request.js';

/** Why nothing fits: the whole model on the boards' totals, and each board's problems with an even split. */
export function explain(req: ResolvedRequest): string {
  const c = req.model.config;
  const B = req.boards.length;
  const kv = req.kv ?? 'fp32';
  const host = req.embedding === 'host';
  const whole = footprint(
    req.model,
    { layers: [0, c.nLayers], embedding: !host, vocab: [0, c.vocabSize] },
    req.boards[0]!,
    { streams: req.streams ?? 1, kv },
  );
  const flash = req.boards.reduce((a, b) => a + partitionBytes(b), 0);
  const psram = req.boards.reduce((a, b) => a + Math.max(0, b.psramBytes - b.psramReserveBytes), 0);
  const lines = [
    `${req.model.name} ${req.model.kind} needs ${mb(whole.imageBytes)} of weights${host ? ' with the embedding on the host' : ''} and ${mb(whole.psramNeeded)} of PSRAM (${kv} KV cache for ${req.streams ?? 1} stream(s), seq_len ${c.seqLen});`,
    `${B}× board${B > 1 ? 's' : ''} (${req.boards.map((b) => b.name).join(', ')}) offer${B > 1 ? '' : 's'} ${mb(flash)} of model partition and ${mb(psram)} of PSRAM`,
  ];
  if (B === 1) lines.push(`— on ${req.boards[0]!.name}: ${whole.problems.join('; ')}`);
  return lines.join(' ');
}

/**
 * A quick necessary condition (the solver decides): the whole model's weights within all the boards'
 * model partitions, its KV caches within all their PSRAM.
 */
function mayFit(r: ResolvedRequest): boolean {
  const c = r.model.config;
  const image = footprint(
    r.model,
    { layers: [0, c.nLayers], embedding: r.embedding !== 'host', vocab: [0, c.vocabSize] },
    r.boards[0]!,
  ).imageBytes;
  const kv = c.nLayers * c.seqLen * kvBytesPerPosition(c, r.kv) * (r.streams ?? 1);
  const flash = r.boards.reduce((a, b) => a + partitionBytes(b), 0);
  const psram = r.boards.reduce((a, b) => a + Math.max(0, b.psramBytes - b.psramReserveBytes), 0);
  return image <= flash && kv <= psram;
}

/** One change that fits: its words, and how big it is (for ranking). */
interface Change {
  what: string[];
  /** Per dimension how far it moves: quant, module, boards added, embedding to the host, KV steps, seq_len halvings. */
  moves: number[];
  /** Changed dimensions, boards added, a bigger module, seq_len halvings, KV steps, the embedding moved. */
  size: [number, number, number, number, number, number];
}

/** Whether `a` changes no dimension more than `b` does (and so makes `b` redundant). */
const noBigger = (a: readonly number[], b: readonly number[]) => a.every((m, i) => m <= b[i]!);

/**
 * The smallest change that makes the request fit: q4 instead of q8, more boards like the last one (up
 * to five, or one more than there are), the biggest module of the chip, the embedding on the host, a
 * more compact KV cache (fp16, then int8), a shorter seq_len — alone first, then combined; a change
 * that only adds to a smaller one that fits is left out. Ranked by the number of changed dimensions,
 * then what they cost: boards added, a bigger module, seq_len halvings, KV steps (numerics), the
 * embedding on the host (bit-exact; a bigger first hop) — so among single changes the embedding's move
 * comes first, new hardware last. Returns the smallest few, smallest first.
 */
export function fixes(req: ResolvedRequest): string[] {
  const c = req.model.config;
  const last = req.boards[req.boards.length - 1]!;
  const biggest = [...Object.values(BUILTIN_PROFILES)]
    .filter((p) => p.chip === last.chip)
    .sort((a, b) => b.flashBytes + b.psramBytes - (a.flashBytes + a.psramBytes))[0]!;
  const kinds: QuantKind[] = req.model.kind === 'q8' ? ['q8', 'q4'] : [req.model.kind];
  const modules = req.boards.every((b) => b.name === biggest.name) ? [false] : [false, true];
  const maxBoards = Math.min(c.nLayers + 1, Math.max(5, req.boards.length + 1));
  const kv0 = KV_FORMATS.indexOf(req.kv ?? 'fp32');
  const kvs: KvFormat[] = KV_FORMATS.slice(kv0);
  // a ring has no host to embed: the embedding stays on board 0
  const places = req.embedding === 'host' || req.standalone ? [false] : [false, true];
  const seqLens: number[] = [];
  for (let n = c.seqLen; n >= 32; n >>= 1) seqLens.push(n);
  const found: Change[] = [];
  for (const kind of kinds)
    for (const bigger of modules)
      for (let extra = 0; req.boards.length + extra <= maxBoards; extra++)
        for (const host of places)
          for (const [steps, kv] of kvs.entries())
            for (const [halvings, seqLen] of seqLens.entries()) {
              const moves = [
                kind !== req.model.kind ? 1 : 0,
                bigger ? 1 : 0,
                extra,
                host ? 1 : 0,
                steps,
                halvings,
              ];
              const changed = moves.filter((m) => m > 0).length;
              if (changed === 0) continue;
              // a change that only adds to one that fits is redundant, and so is every shorter seq_len
              if (found.some((g) => noBigger(g.moves, moves))) break;
              const base = bigger ? req.boards.map(() => biggest) : [...req.boards];
              const boards = [...base, ...Array.from({ length: extra }, () => (bigger ? biggest : last))];
              const r: ResolvedRequest = {
                ...req,
                boards,
                model: { ...req.model, kind, config: { ...c, seqLen } },
                kv,
                embedding: host ? 'host' : (req.embedding ?? 'board'),
              };
              if (!mayFit(r) || !solve(problem(r))) continue;
              const what: string[] = [];
              if (kind !== req.model.kind) what.push('use q4 instead of q8');
              if (bigger) what.push(`use ${biggest.name} modules`);
              if (extra) what.push(`add ${extra} more ${bigger ? biggest.name : last.name}`);
              if (host) what.push('keep the embedding on the host (--embedding host)');
              if (steps) what.push(`use --kv ${kv}`);
              if (halvings) what.push(`shorten seq_len to ${seqLen}`);
              found.push({
                what,
                moves,
                size: [changed, extra, bigger ? 1 : 0, halvings, steps, host ? 1 : 0],
              });
              break; // a longer seq_len is a smaller change: stop halving
            }
  const minimal = found.filter((f) => !found.some((g) => g !== f && noBigger(g.moves, f.moves)));
  const order = (x: Change, y: Change) => {
    for (let i = 0; i < x.size.length; i++) if (x.size[i] !== y.size[i]) return x.size[i]! - y.size[i]!;
    return 0;
  };
  minimal.sort(order);
  return minimal.slice(0, 3).map((f) => f.what.join(' and '));
}
