import { describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

const twoN16R8 = ['plan', '--model', 'synth:15M', '--boards', 'esp32s3-n16r8,esp32s3-n16r8'];

describe('tinypipe plan --streams: the most in flight, the fastest count planned', () => {
  it('15M on 2× N16R8 with the PIE what-if: 4 fit, 2 are fastest — the plan has 2 and says why', async () => {
    // the classifier whole on board 1, the busier board (split, the boards balance and more streams add nothing)
    const whole = [...twoN16R8, '--no-split-classifier'];
    const r = await runCapture([...whole, '--streams', '4', '--kernel', 'optimized']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/objective throughput, 2 stream\(s\)/);
    expect(r.stdout).toMatch(
      /^streams: 4 fit, 2 are fastest \(more are slower\) — predicted by streams: 1: /m,
    );
    const json = JSON.parse(
      (await runCapture([...whole, '--streams', '4', '--kernel', 'optimized', '--json'])).stdout,
    );
    expect(json.streams).toBe(2);
    const by: number[] = json.predicted.streamChoice.tokensPerSecond;
    expect(by).toHaveLength(4);
    expect(json.predicted.tokensPerSecond).toBe(Math.max(...by));
    expect(by[2]).toBeLessThan(by[1]!);
  });

  it('states the context it predicts at: the model’s seq_len, or --seq-len', async () => {
    const at256 = await runCapture([...twoN16R8]);
    expect(at256.stdout).toMatch(
      /^at context 256: attention and KV-cache reads at the average position 128/m,
    );
    const at64 = await runCapture([...twoN16R8, '--seq-len', '64', '--kernel', 'optimized', '--json']);
    const at256json = await runCapture([...twoN16R8, '--kernel', 'optimized', '--json']);
    expect(JSON.parse(at64.stdout).predicted.context).toBe(64);
    // less KV-cache traffic per token at a shorter context: the memory-bound boards are predicted faster
    expect(JSON.parse(at64.stdout).predicted.tokensPerSecond).toBeGreaterThan(
      JSON.parse(at256json.stdout).predicted.tokensPerSecond,
    );
  });
});
