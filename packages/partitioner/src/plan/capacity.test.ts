/**
 * The README's KV capacity table is the planner's: this test computes it (`planModel` for every model,
 * context and KV format on the boards named) and compares it with the table between the README's
 * `capacity-table` markers. Regenerate after a cost-model change: `TP_WRITE_README=1 npx vitest run
 * src/plan/capacity.test.ts` (in packages/partitioner) rewrites the block.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODEL_SHAPES, type ModelShape } from '@tinypipe/core';
import { KV_FORMATS, TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { builtinProfile } from '../profiles/profiles.js';
import { planModel } from './plan.js';

const ROWS: { shape: ModelShape; boards: number }[] = [
  { shape: '15M', boards: 2 },
  { shape: '42M', boards: 2 },
  { shape: '110M', boards: 5 },
];
const CONTEXTS = [256, 512, 1024];
const MAX_STREAMS = 8;

/** One cell: the streams that fit (of at most 8), the predicted tok/s with one, where the embedding is. */
function cell(shape: ModelShape, boards: number, seqLen: number, kv: (typeof KV_FORMATS)[number]): string {
  const req = {
    model: {
      name: `stories${shape}`,
      source: `synth:${shape}`,
      config: { ...MODEL_SHAPES[shape], seqLen },
      kind: 'q4' as const,
      groupSize: 32,
    },
    boards: Array.from({ length: boards }, () => builtinProfile('esp32s3-n16r8')),
    kv,
  };
  try {
    const many = planModel({ ...req, streams: MAX_STREAMS });
    const one = planModel(req);
    const fit = many.predicted.streamChoice!.fit;
    const where = one.embedding === 'host' ? ', host' : '';
    return `${fit}${fit === MAX_STREAMS ? '+' : ''} · ${one.predicted.tokensPerSecond.toFixed(2)}${where}`;
  } catch (e) {
    if (TinypipeError.isInstance(e) && e.code === 'PLAN_INFEASIBLE') return '—';
    throw e;
  }
}

/** The table as markdown (biome's table formatting: padded columns). */
export function capacityTable(): string {
  const head = ['model, boards', 'seq_len', ...KV_FORMATS.map((kv) => `${kv} KV`)];
  const rows = ROWS.flatMap(({ shape, boards }) =>
    CONTEXTS.map((n) => [
      `stories${shape} q4, ${boards}× N16R8`,
      `${n}`,
      ...KV_FORMATS.map((kv) => cell(shape, boards, n, kv)),
    ]),
  );
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(head), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...rows.map(line)].join('\n');
}

const README = join(__dirname, '..', '..', 'README.md');
const BLOCK = /(<!-- capacity-table -->)\n([\s\S]*?)\n?(<!-- \/capacity-table -->)/;

describe('README: the KV capacity table', () => {
  it('is what the planner says today', () => {
    const table = capacityTable();
    const readme = readFileSync(README, 'utf8');
    if (process.env.TP_WRITE_README) writeFileSync(README, readme.replace(BLOCK, `$1\n${table}\n$3`));
    const block = BLOCK.exec(readFileSync(README, 'utf8'));
    expect(block, 'README.md has a <!-- capacity-table --> block').not.toBeNull();
    expect(block![2]).toBe(table);
  }, 60_000);
});
