/** Test helpers: images in a temp folder, and a pipeline of simulated boards vs the TS QuantEngine. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  argmax,
  buildImage,
  QuantEngine,
  type QuantizedModel,
  readImage,
  splitSelections,
} from '@tinypipe/core';
import { afterAll, expect } from 'vitest';
import { type Board, spawnBoard } from './board.js';

export const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-fw-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

export interface Run {
  tokens: number[];
  logits: Buffer[];
  hashes: number[][];
}

/** The TS reference: greedy decoding with the unsplit quantized engine. */
export function runTs(qm: QuantizedModel, steps: number): Run {
  const engine = QuantEngine.fromModel(qm, { layerHashes: true });
  const run: Run = { tokens: [], logits: [], hashes: [] };
  let token = 1;
  for (let pos = 0; pos < steps; pos++) {
    const logits = engine.forward(token, pos);
    run.logits.push(Buffer.from(logits.slice().buffer));
    run.hashes.push([...engine.lastLayerHashes()]);
    token = argmax(logits);
    run.tokens.push(token);
  }
  return run;
}

/** The same on C boards, one process per stage of `split`. */
export async function runBoards(
  qm: QuantizedModel,
  split: number[],
  classifierSlices: number,
  steps: number,
  program?: string,
): Promise<Run> {
  const selections = splitSelections(qm.config, split, classifierSlices);
  const boards: Board[] = [];
  try {
    for (const [i, sel] of selections.entries()) {
      const path = join(tmp, `${qm.kind}-${split.join('_')}-${classifierSlices}-${i}.img`);
      const image = buildImage(qm, sel);
      writeFileSync(path, image);
      const board = spawnBoard(program ? { program } : {});
      boards.push(board);
      const info = await board.open(path);
      // the board preloads from its first layer's norm, or from rms_final on a classifier-only stage
      const first = readImage(image).tensors.find((t) =>
        ['rms_att', 'rms_final'].includes(t.name.replace(/^layers\.\d+\./, '')),
      )!;
      expect(info.firstWeights).toEqual({ offset: first.offset, bytes: image.length - first.offset });
    }
    const run: Run = { tokens: [], logits: [], hashes: [] };
    let token = 1;
    const V = qm.config.vocabSize;
    for (let pos = 0; pos < steps; pos++) {
      let x = await boards[0]!.embed(token);
      const hashes: number[] = [];
      for (const b of boards) {
        const r = await b.forward(x, pos);
        x = r.x;
        hashes.push(...r.hashes);
      }
      const logits = new Float32Array(V);
      for (const b of boards) if (b.info!.classifier) logits.set(await b.classify(x), b.info!.vocab[0]);
      run.logits.push(Buffer.from(logits.buffer));
      run.hashes.push(hashes);
      token = argmax(logits);
      run.tokens.push(token);
    }
    return run;
  } finally {
    await Promise.all(boards.map((b) => b.close()));
  }
}

export function expectSame(
  a: Run,
  b: Run,
  label: string,
  expect: (v: unknown, m?: string) => { toEqual(x: unknown): void },
): void {
  expect(b.tokens, label).toEqual(a.tokens);
  expect(
    b.logits.map((l, i) => l.equals(a.logits[i]!)),
    `${label}: logits bytes`,
  ).toEqual(a.logits.map(() => true));
  expect(b.hashes, `${label}: layer hashes`).toEqual(a.hashes);
}
