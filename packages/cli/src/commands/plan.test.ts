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

describe('tinypipe plan --kv and --embedding', () => {
  const twoFor42M = ['plan', '--model', 'synth:42M', '--boards', 'esp32s3-n16r8,esp32s3-n16r8'];

  it('--kv int8: 42M at seq_len 1024 on 2× N16R8, one stream, the embedding on the host, each said why', async () => {
    const r = await runCapture([...twoFor42M, '--kv', 'int8']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^at context 1024: /m);
    expect(r.stdout).toMatch(/^KV cache: int8 \(--kv int8\)$/m);
    expect(r.stdout).toMatch(/^embedding: on the host \(with it on board 0 the plan does not fit /m);
    const json = JSON.parse((await runCapture([...twoFor42M, '--kv', 'int8', '--json'])).stdout);
    expect(json).toMatchObject({ kv: 'int8', embedding: 'host', streams: 1 });
    expect(json.predicted.tokensPerSecond).toBeGreaterThan(0);
    expect(json.boards.map((b: { embedding: boolean }) => b.embedding)).toEqual([false, false]);
  });

  it('the defaults: fp32 said to be the default; --kv auto names the formats that did not fit', async () => {
    const plain = await runCapture([...twoN16R8]);
    expect(plain.stdout).toMatch(/^KV cache: fp32 \(the default\): bit-exact with earlier images/m);
    expect(plain.stdout).toMatch(/^embedding: on board 0 \(it fits there\)/m);
    const auto = await runCapture([...twoFor42M, '--kv', 'auto', '--seq-len', '512', '--json']);
    expect(JSON.parse(auto.stdout).predicted.why.kv).toMatch(/^fp16 \(--kv auto\).*\(fp32 does not\)$/);
    const board = await runCapture([...twoN16R8, '--embedding', 'host', '--json']);
    expect(JSON.parse(board.stdout).embedding).toBe('host');
  });

  it('infeasible with fp32 at 1024: the fixes name --kv int8 first', async () => {
    const r = await runCapture([...twoFor42M]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PLAN_INFEASIBLE: .*Smallest fix: use --kv int8 \(also works: /);
  });

  it('bad values → USAGE naming the flag and what it accepts', async () => {
    const kv = await runCapture([...twoN16R8, '--kv', 'fp8']);
    expect(kv.code).toBe(2);
    expect(kv.stderr).toMatch(/USAGE: --kv "fp8" is not one of fp32, fp16, int8, auto/);
    const emb = await runCapture([...twoN16R8, '--embedding', 'board1']);
    expect(emb.code).toBe(2);
    expect(emb.stderr).toMatch(/USAGE: --embedding "board1" is not one of auto, board, host/);
  });
});
