/**
 * Two boards from a script: connect to each over its serial port (`connectBoards`: the handshake checks
 * each holds its image of the plan's build), and stream a story through both — the last board samples, the host only relays activations — then
 * print each board's own account of the work (compute per position, bytes on its link).
 *   npm run two-boards -w @tinypipe/examples
 */
import { fileURLToPath } from 'node:url';
import { connectBoards } from '@tinypipe/pipeline';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { startBoards, tellStory } from './boards.js';

export async function twoBoards(
  steps = 120,
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number[]> {
  const sim = await startBoards(2);
  try {
    const pipeline = await connectBoards({
      plan: sim.plan,
      manifests: sim.manifests,
      open: (board) => openSerialPort(sim.boards[board]!.path),
    });
    try {
      const sampling = { temperature: 0.8, topp: 0.9, seed: 42 };
      const tokens = await tellStory(pipeline, sim.tokenizer, sampling, steps, write);
      for (const b of await pipeline.boardStats())
        write(
          `board ${b.board} (layers ${b.layers.join('–')}): ${b.forwards} positions, ${b.msPerForward.toFixed(3)} ms each, ${b.bytesIn + b.bytesOut} bytes on its link\n`,
        );
      return tokens;
    } finally {
      await pipeline.close();
    }
  } finally {
    await sim.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await twoBoards();
