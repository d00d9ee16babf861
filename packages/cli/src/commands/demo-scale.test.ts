/**
 * Issue 20's simulated proof at scale: the plans that `tinypipe plan` finds for stories42M on two
 * ESP32-S3 N16R8 and stories110M on five (q4, int8 KV cache at seq_len 1024, the embedding on the host,
 * the classifier split over the last boards) built, flashed over the ESP ROM protocol to simulated boards
 * with the profile's flash and PSRAM, and run: tokens and every layer hash at every position equal the
 * unsplit host run with the same weights and KV cache format. Synthetic weights (synth:42M, synth:110M):
 * the text is noise, the numerics are the models'. About 15 s and 40 s on a loaded 2-core machine, most of
 * it flashing (packages/cli/README.md); no timing is asserted.
 */
import { describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

interface PlanJson {
  kv: string;
  embedding: string;
  model: { kind: string; config: { seqLen: number; nLayers: number } };
  boards: { layers: [number, number]; vocab: [number, number] | null; embedding: boolean }[];
}

/** `tinypipe plan --json` for `model` on `n` esp32s3-n16r8 with an int8 KV cache (its defaults otherwise). */
async function acceptancePlan(model: string, n: number): Promise<PlanJson> {
  const boards = Array(n).fill('esp32s3-n16r8').join(',');
  const r = await runCapture(['plan', '--model', model, '--boards', boards, '--kv', 'int8', '--json']);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

/** The demo on `n` simulated boards with the plan's request: tinypipe plan's defaults, int8, 1 stream. */
async function scaleDemo(model: string, n: number, steps: number) {
  const r = await runCapture([
    'demo',
    '--model',
    model,
    '--boards',
    String(n),
    '--streams',
    '1',
    '--quant',
    'q4',
    '--kv',
    'int8',
    '--seq-len',
    '1024',
    '--objective',
    'throughput',
    '--split-classifier',
    '--topology',
    'star',
    '--steps',
    String(steps),
    '--seed',
    '1',
    '--hashes',
    '--json',
  ]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

describe('tinypipe demo at scale (issue 20): the acceptance plans on simulated ESP32-S3 N16R8 boards', () => {
  for (const [model, n, steps] of [
    ['synth:42M', 2, 16],
    ['synth:110M', 5, 8],
  ] as const)
    it(`${model} on ${n} boards, int8 KV cache at seq_len 1024, embedding on the host: tokens and layer hashes equal the host run`, async () => {
      const plan = await acceptancePlan(model, n);
      // the plan the acceptance names: it fits only with the compact cache and the host's embedding
      expect(plan).toMatchObject({
        kv: 'int8',
        embedding: 'host',
        model: { kind: 'q4', config: { seqLen: 1024 } },
      });
      expect(plan.boards.filter((b) => b.vocab !== null).length).toBeGreaterThan(1);

      const s = await scaleDemo(model, n, steps);
      expect(s).toMatchObject({
        boards: n,
        quant: 'q4',
        kv: 'int8',
        seqLen: 1024,
        embedding: 'host',
        identicalToHost: true,
        layerHashesIdenticalToHost: true,
      });
      // the boards hold the plan's layers (their own account, over the handshake and STATS)
      expect(s.perBoard.map((b: { layers: number[] }) => b.layers)).toEqual(plan.boards.map((b) => b.layers));
      // every position ran through every board (the prompt's, then tokens the boards sampled with the host)
      for (const b of s.perBoard) expect(b.positions).toBeGreaterThanOrEqual(steps);
      expect(s.tokens).toBe(steps);
      for (const step of ['quantize', 'build', 'flash', 'run', 'hostCheck'])
        expect(s.phaseSeconds[step]).toBeGreaterThan(0);
    }, 900_000);
});
