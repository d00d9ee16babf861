import { describe, expect, it } from 'vitest';
import { runLinkSoak, type SoakReport } from './soak.js';

describe('runLinkSoak', () => {
  it('a clean line: everything delivered once, in order; utilisation is the framing efficiency', async () => {
    const r = await runLinkSoak({ frames: 500, payload: 1152 });
    expect(r).toMatchObject({
      frames: 500,
      delivered: 500,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
    expect(r.lineUtilisation).toBeGreaterThan(0.9); // 1152 B payloads: headers, COBS and ACKs cost < 10 %
    expect(r.lineUtilisation).toBeLessThan(1);
  });

  it('a clean paced line with real timers, 1,000 1152-byte messages at 921,600 baud: no retransmission, ≥ 90 % of the line', async () => {
    // the acceptance run is 10,000 (npm run bench, docs/performance.md); this is 13 s of line time
    const r = await runLinkSoak({ frames: 1000, payload: 1152, baud: 921_600 });
    expect(r).toMatchObject({
      delivered: 1000,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
    expect(r.retransmits).toBe(0); // BER 0: every retransmission is spurious
    expect(r.lineUtilisation).toBeGreaterThanOrEqual(0.9);
  }, 60_000);

  it('a noisy line (the issue’s fault mix, shorter run): delivered == frames, nothing corrupt, duplicated or reordered', async () => {
    // unpaced soaks run on the link's simulated clock (VirtualClock): deterministic, and the seconds of
    // retransmission timeouts pass instantly
    const report: SoakReport | undefined = await runLinkSoak({
      frames: 2000,
      payload: 16,
      ber: 1e-4,
      drop: 0.01,
      insert: 0.01,
      garbage: 0.001,
      seed: 3,
      link: { maxRetries: 100 },
    });
    expect(report).toMatchObject({
      frames: 2000,
      delivered: 2000,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
    expect(report!.retransmits).toBeGreaterThan(0);
    expect(report!.crcFailures).toBeGreaterThan(0);
  }, 120_000);
});
