/**
 * A classifier split over boards by vocabulary rows, sampled without its logits crossing the links
 * (docs/numerics.md §10b, docs/protocol.md §5.3): the last stage answers the final activation, the host
 * sends it (CLASSIFY) to the other slices, then runs `SlicedSampler`'s rounds — SLICE_MAX, HISTOGRAM,
 * one DRAW — checking every answer (a lie fails the stream with BAD_REPLY, as §5.2).
 */

import { type SlicedSampler, type SliceHistogram, type SlicePort, TOP_BUCKET } from '@tinypipe/core';
import { FROM_TOP } from '@tinypipe/protocol';
import type { Answer, BoardPort } from './board-port.js';
import type { PipelinePlan } from './plan.js';
import { badReply } from './replies.js';

/** The boards holding classifier rows, in vocabulary order, with their rows. */
export interface ClassifierSlice {
  index: number;
  rows: readonly [number, number];
}

/** The slices of a plan whose classifier is split (more than one board holds rows); [] otherwise. */
export function classifierSlices(plan: PipelinePlan): ClassifierSlice[] {
  const slices = plan.stages.flatMap((s, index) =>
    s.vocab && s.vocab[1] > s.vocab[0] ? [{ index, rows: s.vocab as readonly [number, number] }] : [],
  );
  return slices.length > 1 ? slices : [];
}

/**
 * The token at `pos` from the slices, given the final activation `x` (the last stage's answer). The last
 * stage classified `x` already: it is asked with an empty CLASSIFY. `sampler` undefined: a prompt
 * position, nothing is sampled (the RNG is left alone) and the other slices are not asked.
 */
export async function sampleSlices(
  ports: readonly BoardPort[],
  slices: readonly ClassifierSlice[],
  stream: number,
  pos: number,
  x: Float32Array,
  sampler: SlicedSampler | undefined,
): Promise<{ token: number }> {
  if (!sampler) return { token: 0xffffffff };
  const last = ports.length - 1;
  const slicePorts = slices.map((s): SlicePort => {
    const port = ports[s.index]!;
    const at = { board: port.board, stream, pos };
    const ask = async <K extends Answer['kind']>(m: Parameters<BoardPort['request']>[0], kind: K) => {
      const a = await port.request(m);
      if (a.kind !== kind) throw badReply(at, `answered ${a.kind}, not ${kind}`);
      return a as Extract<Answer, { kind: K }>;
    };
    const [v0, v1] = s.rows;
    return {
      max: async () => {
        const a = await ask(
          { kind: 'classify', stream, pos, x: s.index === last ? new Float32Array(0) : x },
          'slice-max',
        );
        if (a.index < v0 || a.index >= v1 || !Number.isFinite(a.value))
          throw badReply(
            at,
            `sent a max of ${a.value} at row ${a.index}, outside its rows [${v0}, ${v1}) or not finite`,
          );
        return { index: a.index, value: a.value };
      },
      histogram: async (max, below) => {
        const a = await ask(
          { kind: 'histogram-request', stream, pos, max, below: below ?? FROM_TOP },
          'histogram',
        );
        const limit = below ?? TOP_BUCKET + 1;
        if (a.masses.length > 0 && (a.top >= limit || a.masses.length > a.top + 1))
          throw badReply(at, `sent buckets from ${a.top} (${a.masses.length} of them), asked below ${limit}`);
        const h: SliceHistogram = { top: a.top, masses: a.masses, rest: a.rest };
        return h;
      },
      draw: async (max, bucket, target) => {
        const a = await ask({ kind: 'draw', stream, pos, max, bucket, target }, 'token');
        if (a.token < v0 || a.token >= v1)
          throw badReply(at, `drew token ${a.token}, outside its rows [${v0}, ${v1})`, { token: a.token });
        return a.token;
      },
    };
  });
  return { token: await sampler.sampleSlices(slicePorts) };
}
