/** Step 3 of the demo: open the links to the flashed boards (handshake included) and make the pipeline. */
import type { PtyBoard } from '@tinypipe/firmware';
import { connectBoards, type Pipeline, type TraceRecorder } from '@tinypipe/pipeline';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import type { DemoRun } from './flags.js';
import type { BoardHashes } from './hashes.js';
import type { DemoModel } from './prepare.js';

/**
 * Star: a link to every board; chain: to the first board, and from the last board's second UART. Every link
 * checks in its handshake that its board runs this model, the layers the plan gave it and this build's
 * images (the build id of the manifests: MIXED_BUILD for a board flashed from another build). With the
 * embedding on the host, the build's host image embeds each token (checked against the same build). `recorder`,
 * when given, sees every request (for `--trace`); `hashes`, every board's layer hashes (for `--hashes`).
 */
export async function connectPipeline(
  flags: DemoRun,
  model: DemoModel,
  boards: readonly PtyBoard[],
  recorder: TraceRecorder | undefined,
  hashes?: BoardHashes,
): Promise<Pipeline> {
  return connectBoards({
    plan: model.plan,
    manifests: model.builds.map((b) => b.manifest),
    open: (board, uart) => openSerialPort(uart === 'second' ? boards[board]!.outPath! : boards[board]!.path),
    topology: flags.topology,
    ...(model.hostImage ? { hostImage: model.hostImage } : {}),
    ...(recorder ? { onRequest: recorder.onRequest } : {}),
    ...(hashes ? { onHashes: hashes.onHashes } : {}),
  });
}
