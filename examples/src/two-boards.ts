/**
 * Two boards from a script: connect to each over its serial port, check it holds the plan's layers,
 * and stream a story through both — the last board samples, the host only relays activations.
 *   npm run two-boards -w @tinypipe/examples
 */
import { fileURLToPath } from 'node:url';
import { Pipeline } from '@tinypipe/core';
import { ReliableLink } from '@tinypipe/transport-uart';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { startBoards, tellStory } from './boards.js';

export async function twoBoards(
  steps = 120,
  write: (s: string) => void = (s) => process.stdout.write(s),
): Promise<number[]> {
  const sim = await startBoards([2, 3]);
  try {
    const links = await Promise.all(
      sim.boards.map(async (b, i) =>
        ReliableLink.connect(await openSerialPort(b.path), {
          expect: { fingerprint: sim.plan.fingerprint, layers: sim.plan.stages[i]!.layers },
        }),
      ),
    );
    const pipeline = Pipeline.connect(links, sim.plan);
    return await tellStory(pipeline, sim.tokenizer, { temperature: 0.8, topp: 0.9, seed: 42 }, steps, write);
  } finally {
    await sim.stop();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await twoBoards();
