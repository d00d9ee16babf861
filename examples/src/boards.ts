/**
 * Shared by the examples: start simulated boards (the C firmware on pseudo-terminals), each holding its
 * image of a layer split of the bundled stories260K. With real ESP32-S3s you would flash them instead
 * (`tinypipe plan`, `tinypipe build`, `tinypipe flash`) and open their serial ports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  buildImage,
  type Pipeline,
  type PipelinePlan,
  pipelinePlan,
  quantize,
  readCheckpoint,
  readTokenizer,
  splitSelections,
  type Tokenizer,
} from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';

const models = fileURLToPath(new URL('../../models/', import.meta.url));

export interface SimulatedBoards {
  boards: PtyBoard[];
  plan: PipelinePlan;
  tokenizer: Tokenizer;
  stop(): Promise<void>;
}

/** `split`: layers per board, e.g. [2, 3]. The last board holds the classifier (and samples). */
export async function startBoards(split: number[]): Promise<SimulatedBoards> {
  const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
  const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
  const qm = quantize(checkpoint, { weights: 'q8' });
  const selections = splitSelections(qm.config, split, 1);
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-example-'));
  const boards = await Promise.all(
    selections.map(async (sel, i) => {
      const image = join(dir, `board-${i}.img`);
      writeFileSync(image, buildImage(qm, sel));
      return spawnPtyBoard(image, { board: i });
    }),
  );
  return {
    boards,
    tokenizer,
    plan: pipelinePlan(qm, selections),
    stop: async () => {
      await Promise.all(boards.map((b) => b.kill()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Streams one story through `pipeline` (the last board samples), writing each piece; returns the tokens. */
export async function tellStory(
  pipeline: Pipeline,
  tokenizer: Tokenizer,
  sampling: { temperature: number; topp: number; seed: number },
  steps: number,
  write: (s: string) => void,
): Promise<number[]> {
  const tokens: number[] = [];
  for await (const t of pipeline.generate({ tokenizer, sampling, prompt: 'Once upon a time', steps })) {
    tokens.push(t.token);
    write(t.piece);
  }
  write('\n');
  return tokens;
}
