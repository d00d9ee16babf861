/**
 * `buildPlan`: what each board of a plan gets — its weight image (core's `buildImage`), its ESP-IDF
 * partition table as CSV and binary, and a manifest with the SHA-256 of every file, where each goes in
 * flash and the build id every board of the build shares (what `@tinypipe/flasher` reads). A plan that
 * keeps the embedding on the host also gets `host.tpimg` (the embedding alone, for the host to embed
 * with), in board 0's folder and named by its manifest's `host`; it is not flashed. Pure: the CLI writes
 * the files.
 */
import { sha256 } from '@noble/hashes/sha256';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils';
import {
  buildImage,
  fingerprintHex,
  type QuantizedModel,
  stampBuildId,
  type Tokenizer,
  unstampBuildId,
} from '@tinypipe/core';
import { type KvFormat, TinypipeError } from '@tinypipe/protocol';
import {
  boardPartitions,
  PARTITION_TABLE_OFFSET,
  partitionsCsv,
  partitionTableBinary,
} from '../partition-table/partition-table.js';
import type { Plan } from '../plan/schema.js';
import { checkRingPlan } from '../plan/standalone.js';
import { type RingSettings, ringBoardConfigs } from './ring.js';

export interface BoardFile {
  name: string;
  bytes: Uint8Array;
  /** Flash offset it is written at (absent for files that are not flashed, like the CSV). */
  offset?: number;
  /** The partition it is written into (the flasher checks the region lies inside it). */
  partition?: string;
}

export interface BoardManifest {
  format: 'tinypipe-board-manifest';
  version: 1;
  board: number;
  /** `buildId`: the same in every board of one build, different for any other plan or image. */
  build: string;
  /** The quantization of the weights (q4, q8). */
  quant: string;
  groupSize: number;
  profile: string;
  chip: string;
  flashBytes: number;
  /** The quantized model's fingerprint (`quantFingerprint`: q4 and q8 of one model differ), as in the image and the HELLO. */
  fingerprint: string;
  layers: [number, number];
  embedding: boolean;
  vocab: [number, number] | null;
  /** The plan's KV cache format (docs/numerics.md §6b), the one every image of the build records. */
  kv: KvFormat;
  /**
   * Board 0 of a plan with the embedding on the host: the host's image (`host.tpimg`, the embedding
   * alone, stamped with the build id) — its path in this folder, SHA-256 and size. Not flashed.
   */
  host?: { path: string; sha256: string; bytes: number };
  files: { name: string; bytes: number; sha256: string; offset?: number; partition?: string }[];
}

export interface BoardBuild {
  dir: string;
  files: BoardFile[];
  manifest: BoardManifest;
}

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

/**
 * The build id: SHA-256 over the plan (as JSON) and every file's SHA-256 in board order (lowercase hex,
 * joined by "\n"), first 16 hex digits (8 bytes). The hashes are of the files **as built with a zero
 * build id** in the image header: `buildPlan` computes the id from those, then stamps it into every
 * image (docs/image-format.md §3, §8). Two builds share it only when they hold the same bytes for the
 * same plan. To check a build's id, see `recomputeBuildId`.
 */
export function buildId(plan: Plan, boards: readonly { files: readonly { sha256: string }[] }[]): string {
  const parts = [JSON.stringify(plan), ...boards.flatMap((b) => b.files.map((f) => f.sha256))];
  return bytesToHex(sha256(new TextEncoder().encode(parts.join('\n')))).slice(0, 16);
}

/** The name of the image file in every board's directory (the file the build id is stamped into). */
export const IMAGE_FILE = 'model.img';

/** The host's image of a plan with the embedding on the host, in board 0's directory (also stamped). */
export const HOST_IMAGE_FILE = 'host.tpimg';

/** The files that are weight images: the build id is stamped into them (and zeroed to recompute it). */
const isImage = (name: string) => name === IMAGE_FILE || name === HOST_IMAGE_FILE;

/**
 * Recomputes the build id of a build from its files: each board's `model.img` (and `host.tpimg`) with its build id zeroed
 * again (`unstampBuildId`: the field set to zero and the header CRC recomputed), every other file as it
 * is, hashed in the manifest's file order, then `buildId`. Equal to every manifest's `build` and to the
 * `build_id` in every image header for a build `buildPlan` made and nobody changed.
 */
export function recomputeBuildId(
  plan: Plan,
  boards: readonly { files: readonly { name: string; bytes: Uint8Array }[] }[],
): string {
  return buildId(
    plan,
    boards.map((b) => ({
      files: b.files.map((f) => ({
        sha256: bytesToHex(sha256(isImage(f.name) ? unstampBuildId(f.bytes) : f.bytes)),
      })),
    })),
  );
}

/** The file of each board's ESP-IDF overlay in a ring build (`ringBoardConfigs`): not flashed. */
export const RING_SDKCONFIG_FILE = 'sdkconfig.ring';

/** What `buildPlan` adds for a standalone ring. */
export interface BuildOptions {
  /** Stored in board 0's image (its tokenizer section, docs/image-format.md §4b): the board that tokenizes. */
  tokenizer?: Tokenizer;
  /**
   * Build for a standalone ring (the plan must be one: `checkRingPlan`): board 0's image holds the story
   * settings (its story defaults, docs/image-format.md §4c) and each board gets its ESP-IDF overlay
   * `sdkconfig.ring` (board 0's names the settings in comments only: a Kconfig value set would override the
   * image's); `prompt` is the prompt as board 0 reads it (text, or token ids for a board without a tokenizer).
   */
  ring?: { settings: RingSettings; prompt: string };
}

/**
 * Every board's files and manifest for `plan` with `qm`'s weights; with `options.ring` a standalone ring's
 * build (the tokenizer in board 0's image, each board's `sdkconfig.ring`).
 */
export function buildPlan(plan: Plan, qm: QuantizedModel, options: BuildOptions = {}): BoardBuild[] {
  checkModel(plan, qm);
  if (options.ring) checkRingPlan(plan);
  const configs = options.ring && ringBoardConfigs(plan, options.ring.settings, options.ring.prompt);
  const boards = plan.boards.map((b) => {
    // every image records the plan's KV format (docs/image-format.md §3), layers or not
    const image = buildImage(
      qm,
      {
        layers: [b.layers[0], b.layers[1]],
        embedding: b.embedding,
        classifier: b.vocab ? [b.vocab[0], b.vocab[1]] : false,
      },
      {
        kv: plan.kv,
        ...(b.index === 0 && options.tokenizer ? { tokenizer: options.tokenizer } : {}),
        // board 0 of a ring: the story settings it starts with (docs/image-format.md §4c)
        // (steps capped at seq_len, as the driver caps them)
        ...(b.index === 0 && options.ring
          ? {
              story: {
                ...options.ring.settings,
                prompt: options.ring.prompt, // as the driver reads it: token ids without a tokenizer
                steps: Math.min(options.ring.settings.steps, plan.model.config.seqLen),
              },
            }
          : {}),
      },
    );
    const table = boardPartitions(b.profile.flashBytes, b.profile.modelOffset);
    const model = table.find((e) => e.name === 'model')!;
    if (image.length > model.size)
      throw new TinypipeError(
        'PLAN_INFEASIBLE',
        `board ${b.index}: the image is ${image.length} bytes, its model partition ${model.size}: plan again`,
      );
    const files: BoardFile[] = [
      { name: IMAGE_FILE, bytes: image, offset: model.offset, partition: 'model' },
      {
        name: 'partition-table.bin',
        bytes: partitionTableBinary(table, b.profile.flashBytes),
        offset: PARTITION_TABLE_OFFSET,
      },
      { name: 'partitions.csv', bytes: new TextEncoder().encode(partitionsCsv(table)) },
    ];
    if (configs)
      files.push({ name: RING_SDKCONFIG_FILE, bytes: new TextEncoder().encode(configs[b.index]!.sdkconfig) });
    // the host's image: the embedding alone, beside the image of the board its activations go to
    if (b.index === 0 && plan.embedding === 'host')
      files.push({
        name: HOST_IMAGE_FILE,
        bytes: buildImage(qm, { layers: [0, 0], embedding: true, classifier: false }, { kv: plan.kv }),
      });
    const manifest: BoardManifest = {
      format: 'tinypipe-board-manifest',
      version: 1,
      board: b.index,
      build: '',
      quant: qm.kind,
      groupSize: qm.groupSize,
      profile: b.profile.name,
      chip: b.profile.chip,
      flashBytes: b.profile.flashBytes,
      fingerprint: fingerprintHex(qm.fingerprint),
      layers: [b.layers[0], b.layers[1]],
      embedding: b.embedding,
      vocab: b.vocab ? [b.vocab[0], b.vocab[1]] : null,
      kv: plan.kv,
      files: files.map((f) => ({
        name: f.name,
        bytes: f.bytes.length,
        sha256: bytesToHex(sha256(f.bytes)),
        ...(f.offset !== undefined ? { offset: f.offset } : {}),
        ...(f.partition !== undefined ? { partition: f.partition } : {}),
      })),
    };
    return { dir: `board-${b.index}`, files, manifest };
  });
  // the id is of the images as built (build id zero); then every image carries it, and the manifest
  // records the SHA-256 of the stamped image (what is flashed, or what the host loads)
  const id = buildId(
    plan,
    boards.map((b) => b.manifest),
  );
  const idBytes = hexToBytes(id);
  for (const b of boards) {
    b.manifest.build = id;
    b.files = b.files.map((f) => (isImage(f.name) ? { ...f, bytes: stampBuildId(f.bytes, idBytes) } : f));
    b.manifest.files = b.manifest.files.map((m, i) =>
      isImage(m.name) ? { ...m, sha256: bytesToHex(sha256(b.files[i]!.bytes)) } : m,
    );
    const host = b.manifest.files.find((m) => m.name === HOST_IMAGE_FILE);
    if (host) b.manifest.host = { path: host.name, sha256: host.sha256, bytes: host.bytes };
  }
  return boards;
}
