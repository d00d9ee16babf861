/**
 * Shared by the examples: plan the bundled stories260K over N ESP32-S3s and build each board's image (what
 * `tinypipe plan` and `tinypipe build` do), then start simulated boards (the C firmware on
 * pseudo-terminals) holding them. With real boards you would flash the build instead (`tinypipe flash`)
 * and open their serial ports.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantize, readCheckpoint, readTokenizer, type Tokenizer } from '@tinypipe/core';
import { type PtyBoard, spawnPtyBoard } from '@tinypipe/firmware';
import { type BoardManifest, buildPlan, builtinProfile, type Plan, planModel } from '@tinypipe/partitioner';
import type { Pipeline } from '@tinypipe/pipeline';

const models = fileURLToPath(new URL('../../models/', import.meta.url));

export interface SimulatedBoards {
  boards: PtyBoard[];
  /** The plan the boards hold (`tinypipe plan`'s plan.json) and their build's manifests, in board order. */
  plan: Plan;
  manifests: BoardManifest[];
  tokenizer: Tokenizer;
  stop(): Promise<void>;
}

/** `count` boards; the plan splits the layers over them (throughput), the last holds the classifier (and samples). */
export async function startBoards(count: number): Promise<SimulatedBoards> {
  const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
  const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
  const qm = quantize(checkpoint, { weights: 'q8' });
  const plan = planModel({
    model: { name: 'stories260K', source: 'stories260K.bin', config: qm.config, kind: 'q8', groupSize: 32 },
    boards: Array.from({ length: count }, () => builtinProfile('esp32s3-n16r8')),
    objective: 'throughput',
    splitClassifier: false,
  });
  const builds = buildPlan(plan, qm);
  const dir = mkdtempSync(join(tmpdir(), 'tinypipe-example-'));
  const boards = await Promise.all(
    builds.map(async (b, i) => {
      const image = join(dir, `board-${i}.img`);
      writeFileSync(image, b.files.find((f) => f.partition === 'model')!.bytes);
      return spawnPtyBoard(image, { board: i });
    }),
  );
  return {
    boards,
    tokenizer,
    plan,
    manifests: builds.map((b) => b.manifest),
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
