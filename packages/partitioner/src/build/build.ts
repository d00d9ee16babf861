/**
 * `buildPlan`: what each board of a plan gets — its weight image (core's `buildImage`), its ESP-IDF
 * partition table as CSV and binary, and a manifest with the SHA-256 of every file and where each
 * goes in flash (what `@tinypipe/flasher` reads). Pure: the CLI writes the files.
 */
import { sha256 } from '@noble/hashes/sha256';
import { buildImage, fingerprintHex, type QuantizedModel, TinypipeError } from '@tinypipe/core';
import { boardPartitions, PARTITION_TABLE_OFFSET, partitionsCsv, partitionTableBinary } from '../partition-table/partition-table.js';
import type { Plan } from '../plan/plan.js';

export interface BoardFile {
  name: string;
  bytes: Uint8Array;
  /** Flash offset it is written at (absent for files that are not flashed, like the CSV). */
  offset?: number;
}

export interface BoardManifest {
  format: 'tinypipe-board-manifest';
  version: 1;
  board: number;
  profile: string;
  chip: string;
  flashBytes: number;
  fingerprint: string;
  layers: [number, number];
  embedding: boolean;
  vocab: [number, number] | null;
  files: { name: string; bytes: number; sha256: string; offset?: number }[];
}

export interface BoardBuild {
  dir: string;
  files: BoardFile[];
  manifest: BoardManifest;
}

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/** Checks that `qm` is the plan's model (shape, quantization) before building anything from it. */
function checkModel(plan: Plan, qm: QuantizedModel): void {
  const a = plan.model.config;
  const b = qm.config;
  const same =
    a.dim === b.dim &&
    a.hiddenDim === b.hiddenDim &&
    a.nLayers === b.nLayers &&
    a.nHeads === b.nHeads &&
    a.nKvHeads === b.nKvHeads &&
    a.vocabSize === b.vocabSize &&
    a.seqLen === b.seqLen &&
    qm.kind === plan.model.kind &&
    qm.groupSize === plan.model.groupSize;
  if (!same)
    throw new TinypipeError(
      'PLAN_INVALID',
      `the model (${qm.kind}, group ${qm.groupSize}, dim ${b.dim}, ${b.nLayers} layers) is not the plan's (${plan.model.kind}, group ${plan.model.groupSize}, dim ${a.dim}, ${a.nLayers} layers): plan it again`,
    );
}

export function buildPlan(plan: Plan, qm: QuantizedModel): BoardBuild[] {
  checkModel(plan, qm);
  return plan.boards.map((b) => {
    const image = buildImage(qm, {
      layers: [b.layers[0], b.layers[1]],
      embedding: b.embedding,
      classifier: b.vocab ? [b.vocab[0], b.vocab[1]] : false,
    });
    const table = boardPartitions(b.profile.flashBytes, b.profile.modelOffset);
    const model = table.find((e) => e.name === 'model')!;
    if (image.length > model.size)
      throw new TinypipeError(
        'PLAN_INFEASIBLE',
        `board ${b.index}: the image is ${image.length} bytes, its model partition ${model.size}: plan again`,
      );
    const files: BoardFile[] = [
      { name: 'model.img', bytes: image, offset: model.offset },
      { name: 'partition-table.bin', bytes: partitionTableBinary(table, b.profile.flashBytes), offset: PARTITION_TABLE_OFFSET },
      { name: 'partitions.csv', bytes: new TextEncoder().encode(partitionsCsv(table)) },
    ];
    const manifest: BoardManifest = {
      format: 'tinypipe-board-manifest',
      version: 1,
      board: b.index,
      profile: b.profile.name,
      chip: b.profile.chip,
      flashBytes: b.profile.flashBytes,
      fingerprint: fingerprintHex(qm.fingerprint),
      layers: [b.layers[0], b.layers[1]],
      embedding: b.embedding,
      vocab: b.vocab ? [b.vocab[0], b.vocab[1]] : null,
      files: files.map((f) => ({
        name: f.name,
        bytes: f.bytes.length,
        sha256: hex(sha256(f.bytes)),
        ...(f.offset !== undefined ? { offset: f.offset } : {}),
      })),
    };
    return { dir: `board-${b.index}`, files, manifest };
  });
}
