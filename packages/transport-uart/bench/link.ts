/**
 * Link benchmarks (docs/protocol.md §4), side by side in one run:
 *  1. throughput: 1152-byte activations (stories15M's fp32 residual) over a paced line at BER 0, real
 *     timers — useful payload bits ÷ line rate (10 bits per byte), and retransmissions (all spurious);
 *  2. the soak of issue 6: SOAK_FRAMES messages (default 100,000; the acceptance run is 1,000,000)
 *     through BER 1e-4, 1 % byte drop, 1 % byte insert, 0.1 % garbage bursts.
 * Run: npm run bench (or SOAK_FRAMES=1000000 npx tsx bench/link.ts).
 */
import { runLinkSoak } from '../src/soak/soak.js';

// the acceptance run: LINK_FRAMES (default 10,000) at 921,600 baud; 1,000 at the other rates
for (const baud of [460_800, 921_600, 2_000_000]) {
  const frames = baud === 921_600 ? Number(process.env.LINK_FRAMES ?? 10_000) : 1000;
  const r = await runLinkSoak({ frames, payload: 1152, baud });
  console.log(
    `throughput  ${String(baud).padStart(9)} baud  ${frames.toLocaleString('en-US')} × 1152 B messages: ${(100 * r.lineUtilisation).toFixed(1)} % of the line ` +
      `(${Math.round(r.payloadBytesPerSecond).toLocaleString('en-US')} B/s payload, ${r.retransmits} retransmits, ${(r.elapsedMs / 1000).toFixed(1)} s)`,
  );
}

const frames = Number(process.env.SOAK_FRAMES ?? 100_000);
const r = await runLinkSoak({
  frames,
  ber: 1e-4,
  drop: 0.01,
  insert: 0.01,
  garbage: 0.001,
  seed: 1,
  link: { maxRetries: 100 },
});
console.log(
  `soak ${frames.toLocaleString('en-US')} messages: delivered ${r.delivered}, corrupt ${r.corruptDelivered}, ` +
    `duplicates ${r.duplicatesDelivered}, out of order ${r.outOfOrder}, lost ${r.lost}, ` +
    `retransmits ${r.retransmits}, CRC failures ${r.crcFailures}, ${(r.elapsedMs / 1000).toFixed(1)} s`,
);
if (r.delivered !== frames || r.corruptDelivered || r.duplicatesDelivered || r.outOfOrder)
  process.exitCode = 1;
