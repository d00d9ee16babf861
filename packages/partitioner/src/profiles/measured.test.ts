import { MODEL_SHAPES } from '@tinypipe/core';
import { EXAMPLE_CALIBRATION } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { layerWork, workMicros } from '../cost/cost.js';
import { formatPlan } from '../plan/format.js';
import { planModel } from '../plan/plan.js';
import { parsePlan } from '../plan/schema.js';
import { deriveCalibration } from './calibration.js';
import { measuredProfile } from './measured.js';
import { builtinProfile, parseProfile } from './profiles.js';

/** What an ESP32-S3 running the ESP-IDF app might answer: 20 MB/s, 0.1 / 0.2 MAC/cycle, the preload saving
 * 1800 µs of a first-weights read = 36,000 B at 20 MB/s (capped at the 32768 it read). */
const answer = EXAMPLE_CALIBRATION;
const date = '2026-12-01T10:00:00.000Z';
const stories260K = {
  name: 'stories260K',
  source: 'bundled',
  config: MODEL_SHAPES['260K'],
  kind: 'q8' as const,
  groupSize: 32,
};
const base = builtinProfile('esp32s3-n16r8');

describe('measuredProfile', () => {
  const cal = deriveCalibration(answer, [1.2, 1.0, 1.4]);
  const p = measuredProfile(base, cal, { date });

  it('replaces the performance figures with the measured ones and keeps the rest of the base', () => {
    expect(p.name).toBe('esp32s3-n16r8-measured');
    expect(p.flashMBps).toBe(20);
    expect(p.macsPerCycle).toEqual({ ansi: { q4: 0.1, q8: 0.2 }, optimized: base.macsPerCycle.optimized });
    expect(p.kernel).toBe('ansi'); // the firmware's opt kernel is portable C
    expect(p.preloadBytes).toBe(32768);
    // half the median round trip (1.2 ms) less both frames' time on a 2 Mbaud line
    expect(p.perMessageMs).toBeCloseTo((1.2 - cal.roundTrip.wireMs) / 2, 3);
    expect(p).toMatchObject({
      flashBytes: base.flashBytes,
      psramBytes: base.psramBytes,
      uartBaud: base.uartBaud,
      modelOffset: base.modelOffset,
    });
    expect(p.measured).toMatchObject({ date, board: 'esp-idf v5.3.1 esp32s3', host: false, base: base.name });
    expect(p.sources.flashMBps).toMatch(/^measured by tinypipe calibrate 2026-12-01/);
  });

  it('survives JSON and validation (a file plan/build/demo read)', () => {
    expect(parseProfile(JSON.parse(JSON.stringify(p)), 'measured.json')).toEqual(p);
  });

  it('the cost model gets the measured rate back: a layer’s compute is its MACs at the measured MAC/s', () => {
    const model = { config: MODEL_SHAPES['15M'], kind: 'q4' as const, groupSize: 32 };
    const layer = layerWork(model, 1, false);
    expect(workMicros(layer, p, { quant: 'q4' })).toBe(Math.ceil((layer.macs / cal.macsPerSecond.q4) * 1e6));
  });

  it('a plan on it says its figures are measured, in JSON and in text', () => {
    const plan = planModel({ model: stories260K, boards: [p, p], objective: 'throughput' });
    expect(plan.predicted.figures).toBe('measured');
    expect(plan.predicted.label).toMatch(/measured on the boards by tinypipe calibrate/);
    expect(plan.boards.map((b) => b.predicted)).toMatchObject([
      { figures: 'measured', kernel: 'ansi', macsPerCycle: 0.2 },
      { figures: 'measured', kernel: 'ansi', macsPerCycle: 0.2 },
    ]);
    expect(formatPlan(plan)).toMatch(
      /figures of esp32s3-n16r8-measured: measured by tinypipe calibrate 2026-12-01 on esp-idf v5\.3\.1 esp32s3; kernel ansi \(portable C, the firmware’s: kernel opt \(src\/kernels\.h\) on 2 cores, 240 MHz\) 0\.2 MAC\/cycle/,
    );
    expect(parsePlan(JSON.parse(JSON.stringify(plan)))).toEqual(plan);
  });

  it('a simulated board measured its host, and its port has no preload: the profile says so', () => {
    const host = measuredProfile(
      base,
      deriveCalibration(
        { ...answer, host: true, cpuMhz: 0, preload: false, invalidate: false, port: 'posix: the host' },
        [0.3],
      ),
      { date, name: 'my-laptop' },
    );
    expect(host.name).toBe('my-laptop');
    expect(host.clockMhz).toBe(base.clockMhz); // unknown on a host: the MAC/cycle is over the base's clock
    expect(host.preloadBytes).toBe(0);
    expect(host.measured?.host).toBe(true);
    const plan = planModel({ model: stories260K, boards: [host] });
    expect(formatPlan(plan)).toMatch(/a simulated board: the host’s figures, not a board’s/);
  });
});
