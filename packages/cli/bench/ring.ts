/**
 * The ring against the host, side by side (issue 21 item 4; bench/demo.ts's header says how): per row N
 * boards and K stories at once, `tinypipe demo --standalone` and `tinypipe demo --topology chain`, both
 * emulating esp32s3-n16r8, back to back in pairs.
 */

/** What a row reads of either demo's `--json`. */
export interface RateSummary {
  tokens: number;
  tokensPerSecond: number;
  identicalToHost: boolean;
  predicted?: { tokensPerSecond: number };
}

/** The rows: N boards, K stories at once (one, then one a board). */
const ROWS = [
  { boards: 2, streams: 1 },
  { boards: 2, streams: 2 },
  { boards: 3, streams: 1 },
  { boards: 3, streams: 3 },
].map((r) => ({ ...r, label: `ring vs host chain, esp32s3-n16r8, ${r.boards} boards, K=${r.streams}` }));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/**
 * Runs the selected ring rows, `pairs` pairs each (`demo` runs `tinypipe demo --seed 1 --json` with the
 * arguments given, in its own process), and prints each side's median tok/s and the ratio ring ÷ host: the
 * median of the pairs' ratios, with their smallest and largest.
 */
export async function ringRows(
  pairs: number,
  selected: (label: string) => boolean,
  demo: (args: string[]) => Promise<RateSummary>,
): Promise<void> {
  const rows = ROWS.filter((r) => selected(r.label));
  if (!rows.length) return;
  console.log(
    `${'tinypipe demo'.padEnd(54)} ${'ring tok/s'.padStart(10)} ${'host tok/s'.padStart(10)}  ring÷host  ` +
      `(min–max)    predicted  tokens  bit-exact`,
  );
  for (const { boards, streams, label } of rows) {
    const common = ['--boards', String(boards), '--streams', String(streams), '--steps', '160'];
    const emulate = ['--emulate', 'esp32s3-n16r8'];
    const ringArgs = ['--standalone', ...common, ...emulate];
    const hostArgs = [...common, '--topology', 'chain', ...emulate];
    const runs: { ring: RateSummary; host: RateSummary }[] = [];
    for (let i = 0; i < pairs; i++) {
      // the order alternates, so neither side always runs on the machine the other just left
      if (i % 2 === 0) {
        const ring = await demo(ringArgs);
        runs.push({ ring, host: await demo(hostArgs) });
      } else {
        const host = await demo(hostArgs);
        runs.push({ ring: await demo(ringArgs), host });
      }
    }
    const ratios = runs.map((r) => r.ring.tokensPerSecond / r.host.tokensPerSecond);
    const ring = median(runs.map((r) => r.ring.tokensPerSecond));
    const host = median(runs.map((r) => r.host.tokensPerSecond));
    const first = runs[0]!;
    const predicted = `${first.ring.predicted?.tokensPerSecond.toFixed(1) ?? '—'}/${first.host.predicted?.tokensPerSecond.toFixed(1) ?? '—'}`;
    const tokens = runs.every((r) => r.ring.tokens === r.host.tokens) ? String(first.ring.tokens) : 'DIFFER';
    const exact = runs.every((r) => r.ring.identicalToHost && r.host.identicalToHost);
    console.log(
      `${label.padEnd(54)} ${ring.toFixed(1).padStart(10)} ${host.toFixed(1).padStart(10)}  ` +
        `${median(ratios).toFixed(3).padStart(9)}  (${Math.min(...ratios).toFixed(3)}–${Math.max(...ratios).toFixed(3)})  ` +
        `${predicted.padStart(11)}  ${tokens.padStart(6)}  ${exact ? 'yes' : 'NO'}`,
    );
  }
  console.log(
    `\nmedians of ${pairs} pairs per row; ring÷host = the median of the pairs' ratios (their range in brackets);\n` +
      "predicted = the cost model's tok/s for the ring's plan / the host-driven plan's; tokens = every story's,\n" +
      'the same on both sides in every pair; bit-exact: every story of both equals the unsplit host run',
  );
}
