import { describe, expect, it, vi } from 'vitest';
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

  it('a noisy line (the issue’s fault mix, shorter run): delivered == frames, nothing corrupt, duplicated or reordered', async () => {
    // simulated clock: deterministic, and seconds of retransmission timeouts pass instantly
    vi.useFakeTimers({
      toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'performance'],
    });
    let report: SoakReport | undefined;
    try {
      const run = runLinkSoak({
        frames: 1000,
        payload: 16,
        ber: 1e-4,
        drop: 0.01,
        insert: 0.01,
        garbage: 0.001,
        seed: 3,
        link: { minRtoMs: 1, maxRtoMs: 20, maxRetries: 60 },
      }).then((r) => {
        report = r;
      });
      for (let t = 0; t < 2_000_000 && !report; t += 5) await vi.advanceTimersByTimeAsync(5);
      await run;
    } finally {
      vi.useRealTimers();
    }
    expect(report).toMatchObject({
      frames: 1000,
      delivered: 1000,
      corruptDelivered: 0,
      duplicatesDelivered: 0,
      outOfOrder: 0,
      lost: 0,
    });
    expect(report!.retransmits).toBeGreaterThan(0);
    expect(report!.crcFailures).toBeGreaterThan(0);
  }, 120_000);
});
