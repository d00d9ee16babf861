/** Plans in words for people: layer ranges, what a board holds, the plan table, where figures come from. */
import type { BoardProfile, KernelKind } from '../profiles/profiles.js';
import type { Plan } from './schema.js';

/** Bytes as megabytes with one decimal ("1.5 MB"). */
export const mb = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

/**
 * A half-open range `[start, end)` as people read it, inclusive: "0–2", "3" for one, "none" when empty
 * (plans, manifests and images store half-open ranges; "0–3 / 3–5" would read as overlapping).
 */
export function formatRange(range: readonly [number, number]): string {
  const [start, end] = range;
  if (end <= start) return 'none';
  return end - start === 1 ? `${start}` : `${start}–${end - 1}`;
}

/**
 * What a board holds, in words: "layers 0–2 + embedding + classifier rows 0–15999", "layers 3–5 +
 * classifier" (all its rows, when `vocabSize` says so), "classifier only".
 */
export function describeHolding(
  b: {
    layers: readonly [number, number];
    embedding?: boolean | undefined;
    vocab?: readonly [number, number] | null | undefined;
  },
  vocabSize?: number,
): string {
  const parts = b.layers[1] > b.layers[0] ? [`layers ${formatRange(b.layers)}`] : [];
  if (b.embedding) parts.push('embedding');
  if (b.vocab) {
    const whole = b.vocab[0] === 0 && b.vocab[1] === vocabSize;
    const what = whole ? 'classifier' : `classifier rows ${formatRange(b.vocab)}`;
    parts.push(parts.length ? what : `${what} only`);
  }
  return parts.length ? parts.join(' + ') : 'nothing';
}

/** A table for people: one line per board, then the predicted figures (labelled as predictions). */
export function formatPlan(plan: Plan): string {
  const rows = plan.boards.map((b) => {
    const vocab = b.vocab ? formatRange(b.vocab) : '-';
    return [
      `${b.index}`,
      b.profile.name,
      formatRange(b.layers), // 'none' for a board with the embedding or classifier rows only
      b.embedding ? 'yes' : '-',
      vocab,
      `${mb(b.imageBytes)} / ${mb(b.partitionBytes)}`,
      `${mb(b.psramBytes)}`,
      `${b.predicted.periodMs.toFixed(1)} ms`,
    ];
  });
  const head = [
    '#',
    'board',
    'layers',
    'embed',
    'classifier rows',
    'image / partition',
    'PSRAM',
    'busy/token',
  ];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const p = plan.predicted;
  const seen = new Set<string>();
  const figures = plan.boards.flatMap((b) => {
    if (seen.has(b.profile.name)) return [];
    seen.add(b.profile.name);
    return [`figures of ${b.profile.name}: ${figuresLine(b.profile, b.predicted)}`];
  });
  return [
    `${plan.model.name} ${plan.model.kind} (group ${plan.model.groupSize}), ${plan.boards.length} board(s), objective ${plan.objective}, ${plan.streams} stream(s)`,
    'layers and classifier rows are inclusive (0–2 is layers 0, 1 and 2)',
    line(head),
    ...rows.map(line),
    `predicted (cost model, not measured): ${p.tokensPerSecond.toFixed(2)} tok/s, latency ${p.latencyMs.toFixed(1)} ms/token, slowest board ${p.bottleneckMs.toFixed(1)} ms`,
    ...(p.context !== undefined
      ? [
          `at context ${p.context}: attention and KV-cache reads at the average position ${p.context / 2}, the KV-cache bytes on the memory bus with the flash`,
        ]
      : []),
    ...(p.why ? [`KV cache: ${p.why.kv}`, `embedding: ${p.why.embedding}`] : []),
    ...streamsLine(plan),
    ...figures,
  ].join('\n');
}

/** Why the plan has its stream count, when more were asked: "3 streams fit, 2 are fastest". */
function streamsLine(plan: Plan): string[] {
  const choice = plan.predicted.streamChoice;
  if (!choice || choice.asked <= 1) return [];
  const k = plan.streams;
  const fit = choice.fit < choice.asked ? `${choice.fit} of ${choice.asked} fit` : `${choice.fit} fit`;
  const by = choice.tokensPerSecond
    .map((t, i) => `${i + 1}: ${t === null ? 'does not fit' : `${t.toFixed(2)} tok/s`}`)
    .join(', ');
  const fastest = choice.tokensPerSecond[k - 1];
  const more = choice.tokensPerSecond.slice(k).filter((t): t is number => t !== null);
  const why =
    k === choice.fit
      ? k === 1
        ? 'it is used'
        : `all ${k} are used`
      : `${k} ${k === 1 ? 'is' : 'are'} fastest (${more.some((t) => t === fastest) ? 'more add nothing' : 'more are slower'})`;
  return [`streams: ${fit}, ${why} — predicted by streams: ${by}`];
}

/** Where a board's figures come from and which kernel it was projected with, in one line. */
export function figuresLine(
  profile: BoardProfile,
  predicted: { kernel?: KernelKind | undefined; macsPerCycle?: number | undefined },
): string {
  const m = profile.measured;
  const source = m
    ? `measured by tinypipe calibrate ${m.date.slice(0, 10)} on ${m.board}${m.host ? ' — a simulated board: the host’s figures, not a board’s' : ''}`
    : 'datasheet (estimates with their sources; tinypipe calibrate measures them on a board)';
  const kernel = predicted.kernel ?? profile.kernel;
  const what =
    kernel === profile.kernel
      ? `${kernel === 'ansi' ? 'portable C' : 'SIMD'}, the firmware’s${m ? `: ${m.firmware}` : ''}`
      : `not the firmware’s (it has ${profile.kernel}): a what-if`;
  const rate =
    predicted.macsPerCycle !== undefined ? ` ${+predicted.macsPerCycle.toPrecision(3)} MAC/cycle` : '';
  return `${source}; kernel ${kernel} (${what})${rate}`;
}
