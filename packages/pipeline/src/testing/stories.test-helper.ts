/** Test helper: the bundled stories260K (q8) and its tokenizer, a two-board plan of it, its boards in memory. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { quantize, readCheckpoint, readTokenizer } from '@tinypipe/core';
import { builtinProfile, type Plan, planModel } from '@tinypipe/partitioner';
import { type MemoryBoard, memoryBoard } from './memory-board.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

export const qm = quantize(readCheckpoint(new Uint8Array(readFileSync(repo('models/stories260K.bin')))), {
  weights: 'q8',
});
export const tokenizer = readTokenizer(new Uint8Array(readFileSync(repo('models/tok512.bin'))), 512);

/** stories260K over two ESP32-S3s, planned as `tinypipe plan` does (`objective`: default throughput). */
export const twoBoardPlan = (objective: 'latency' | 'throughput' = 'throughput'): Plan =>
  planModel({
    model: { name: 'stories260K', source: 'stories260K.bin', config: qm.config, kind: 'q8', groupSize: 32 },
    boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n16r8')],
    objective,
    splitClassifier: false,
  });

/** Memory boards holding what `plan` gives each (`build`: the build id their images report). */
export const planBoards = (plan: Plan, build?: Uint8Array): MemoryBoard[] =>
  plan.boards.map((b) =>
    memoryBoard(
      qm,
      { layers: b.layers, embedding: b.embedding, classifier: b.vocab ?? false },
      { board: b.index, ...(build ? { build } : {}) },
    ),
  );
