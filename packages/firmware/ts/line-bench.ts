/**
 * `npm run bench:link` (firmware): the TS host ↔ C board link at 921,600 baud over a real PTY, the board's
 * transmit paced like a UART (--line-baud): LINK_FRAMES (default 10,000) 1152-byte activations, real timers.
 * The acceptance figures of docs/performance.md: retransmissions on both ends, share of the line.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLineThroughput, writeThroughputImage } from './line-throughput.js';

const frames = Number(process.env.LINK_FRAMES ?? 10_000);
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-line-bench-'));
try {
  const r = await runLineThroughput(writeThroughputImage(tmp), frames, 921_600);
  console.log(
    `TS host ↔ C board (PTY, --line-baud 921600), ${frames.toLocaleString('en-US')} 1152-byte activations: ` +
      `${(100 * r.lineUtilisation).toFixed(1)} % of the line, retransmits host ${r.hostRetransmits} / board ${r.boardRetransmits}, ` +
      `host RTT ${r.hostRttMs.toFixed(1)} ms, ${(r.elapsedMs / 1000).toFixed(1)} s` +
      (r.hostStalls
        ? ` (this host stalled ${r.hostStalls}× > 40 ms, longest ${r.longestHostStallMs.toFixed(0)} ms)`
        : ''),
  );
  if (r.hostRetransmits + r.boardRetransmits > 0 || r.lineUtilisation < 0.9) process.exitCode = 1;
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
