/**
 * The KV format and embedding placement a plan takes, and why, in words: `--kv auto` takes the most
 * exact format that fits (fp32 > fp16 > int8), `--embedding auto` board 0 when that fits, else the host.
 */
import { hopMicros } from '../cost/cost.js';
import { type EmbeddingPlacement, KV_FORMATS, type KvFormat } from '../cost/kv.js';
import type { PlanRequest } from './request.js';

/** One combination tried, in the order they are tried. */
export interface Candidate {
  kv: KvFormat;
  embedding: EmbeddingPlacement;
}

/** The combinations to try for `req`, in order: KV formats most exact first, then board 0 before host. */
export function candidates(req: PlanRequest): Candidate[] {
  const kvs: readonly KvFormat[] = req.kv === 'auto' ? KV_FORMATS : [req.kv ?? 'fp32'];
  const places: EmbeddingPlacement[] =
    req.embedding === 'board' || req.embedding === 'host' ? [req.embedding] : ['board', 'host'];
  return kvs.flatMap((kv) => places.map((embedding) => ({ kv, embedding })));
}

const ms = (us: number) => `${(us / 1000).toFixed(1)} ms`;

/** Why the plan has its KV format and embedding placement (`chosen`), after `failed` did not fit. */
export function explainChoice(
  req: PlanRequest,
  chosen: Candidate,
  failed: readonly Candidate[],
): { kv: string; embedding: string } {
  const c = req.model.config;
  const at = `seq_len ${c.seqLen}`;
  const notFit = [...new Set(failed.filter((f) => f.kv !== chosen.kv).map((f) => f.kv))];
  let kv: string;
  if (req.kv === 'auto')
    kv =
      chosen.kv === 'fp32'
        ? `fp32 (--kv auto): the most exact format, and it fits at ${at}`
        : `${chosen.kv} (--kv auto): the most exact format that fits at ${at} (${notFit.join(' and ')} ${notFit.length > 1 ? 'do' : 'does'} not)`;
  else if (req.kv === undefined)
    kv = 'fp32 (the default): bit-exact with earlier images; --kv fp16, int8 or auto holds longer contexts';
  else kv = `${chosen.kv} (--kv ${chosen.kv})`;
  if (chosen.embedding === 'board') {
    const how = req.embedding === 'board' ? '--embedding board' : 'it fits there';
    return { kv, embedding: `on board 0 (${how}): the host sends each token as a 9-byte TOKEN` };
  }
  const board0 = req.boards[0]!;
  const extra = hopMicros(5 + 4 * c.dim, board0) - hopMicros(9, board0);
  const cost = `the host sends board 0 the embedded row, an ACTIVATION of ${4 * c.dim} bytes instead of a TOKEN (+${ms(extra)} a token on that hop)`;
  const why =
    req.embedding === 'host'
      ? '--embedding host'
      : `with it on board 0 the plan does not fit (${chosen.kv} KV, ${at})`;
  return { kv, embedding: `on the host (${why}): ${cost}` };
}
