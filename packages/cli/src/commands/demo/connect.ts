/** Step 3 of the demo: open the links to the flashed boards (handshake included) and make the pipeline. */
import { Pipeline, type TraceRecorder } from '@tinypipe/core';
import type { PtyBoard } from '@tinypipe/firmware';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { DemoRun } from './flags.js';
import type { DemoModel } from './prepare.js';

/**
 * Star: a link to every board; chain: to the first board, and from the last board's second UART. Every link
 * checks in its handshake that its board runs this model, the layers the plan gave it and this build's
 * images (the build id of the manifests: MIXED_BUILD for a board flashed from another build). `recorder`,
 * when given, sees every request (for `--trace`).
 */
export async function connectPipeline(
  flags: DemoRun,
  model: DemoModel,
  boards: readonly PtyBoard[],
  recorder: TraceRecorder | undefined,
): Promise<Pipeline> {
  const { plan, qm } = model;
  const build = Uint8Array.from(Buffer.from(model.builds[0]!.manifest.build, 'hex'));
  const last = flags.boards - 1;
  const ends =
    flags.topology === 'chain'
      ? [
          { board: 0, path: boards[0]!.path },
          { board: last, path: boards[last]!.outPath! },
        ]
      : boards.map((b, i) => ({ board: i, path: b.path }));
  const links = await Promise.all(
    ends.map(async ({ board, path }) =>
      ReliableLink.connect(await openSerialPort(path), {
        expect: {
          fingerprint: qm.fingerprint,
          layers: plan.boards[board]!.layers as [number, number],
          build,
        },
      }),
    ),
  );
  return Pipeline.connect(
    links,
    {
      config: model.config,
      fingerprint: qm.fingerprint,
      build,
      stages: plan.boards.map((b) => ({ layers: b.layers, embedding: b.embedding, vocab: b.vocab })),
    },
    { topology: flags.topology, ...(recorder ? { onRequest: recorder.onRequest } : {}) },
  );
}
