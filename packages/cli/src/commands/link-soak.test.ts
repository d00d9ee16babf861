/** `tinypipe link-soak` and `tinypipe ports`: the link on a simulated line, the serial ports listed. */
import { describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

/** A soak's counters when the link lost nothing: every one of `frames` delivered once, intact, in order. */
const nothingLost = (frames: number) => ({
  frames,
  delivered: frames,
  corruptDelivered: 0,
  duplicatesDelivered: 0,
  outOfOrder: 0,
  lost: 0,
});

describe('tinypipe link-soak', () => {
  it('prints the issue’s counters; a clean line loses nothing', async () => {
    const r = await runCapture(['link-soak', '--frames', '300', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject(nothingLost(300));
  });
  it('a mildly noisy line: still everything, once, in order, with retransmissions', async () => {
    const r = await runCapture([
      'link-soak',
      '--frames',
      '300',
      '--ber',
      '1e-4',
      '--drop',
      '0.001',
      '--insert',
      '0.001',
      '--seed',
      '4',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject(nothingLost(300));
    expect(out.retransmits).toBeGreaterThan(0);
  });
  it('refuses a probability outside [0, 1)', async () => {
    const r = await runCapture(['link-soak', '--drop', '1.5']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^tinypipe: USAGE: --drop 1.5 must be a probability/);
  });
});

describe('tinypipe ports', () => {
  it('lists serial ports as JSON, each with a path and the ESP32-S3 mark', async () => {
    const r = await runCapture(['ports', '--json']);
    expect(r.code).toBe(0);
    const ports = JSON.parse(r.stdout) as { path: string; likelyEsp32s3: boolean }[];
    expect(Array.isArray(ports)).toBe(true);
    for (const p of ports) {
      expect(p.path).toMatch(/^\/dev\//);
      expect(typeof p.likelyEsp32s3).toBe('boolean');
    }
  });
});
