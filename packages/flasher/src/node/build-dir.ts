/**
 * Reading a `tinypipe build` folder: each `board-N/manifest.json` and its files, every SHA-256 checked
 * (BUILD_INVALID otherwise), into the regions `flashPlan` writes.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TinypipeError } from '@tinypipe/core';
import type { BoardImage } from '../flash/flash-plan.js';

interface Manifest {
  board: number;
  mac?: string;
  chip: string;
  flashBytes: number;
  fingerprint: string;
  layers: [number, number];
  files: { name: string; bytes: number; sha256: string; offset?: number }[];
}

export interface BuiltBoard extends BoardImage {
  fingerprint: string;
  layers: [number, number];
  /** The chip it was last flashed to, when `rememberMac` recorded it: ports are matched by it. */
  mac?: string | undefined;
  /** Its folder (for `rememberMac`). */
  dir: string;
}

const invalid = (message: string, cause?: unknown) =>
  new TinypipeError('BUILD_INVALID', message, cause ? { cause } : {});

export async function readBuild(dir: string): Promise<BuiltBoard[]> {
  let entries: string[];
  try {
    entries = (await readdir(dir)).filter((d) => /^board-\d+$/.test(d));
  } catch (cause) {
    throw invalid(`${dir}: cannot read the build folder (run tinypipe build first)`, cause);
  }
  if (entries.length === 0)
    throw invalid(`${dir} has no board-N folders: run tinypipe build --plan … --out ${dir}`);
  const boards: BuiltBoard[] = [];
  for (const name of entries) {
    const folder = join(dir, name);
    let m: Manifest;
    try {
      m = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
    } catch (cause) {
      throw invalid(`${folder}/manifest.json is missing or not JSON`, cause);
    }
    const regions = [];
    for (const f of m.files ?? []) {
      if (f.offset === undefined) continue;
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(join(folder, f.name)));
      } catch (cause) {
        throw invalid(`${folder}/${f.name} is missing`, cause);
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== f.sha256)
        throw invalid(
          `${folder}/${f.name} does not match its manifest (SHA-256 ${sha}, expected ${f.sha256}): rebuild`,
        );
      regions.push({ name: f.name, offset: f.offset, bytes });
    }
    regions.sort((a, b) => a.offset - b.offset);
    boards.push({
      board: m.board,
      chip: m.chip,
      flashBytes: m.flashBytes,
      fingerprint: m.fingerprint,
      layers: m.layers,
      mac: m.mac,
      dir: folder,
      regions,
    });
  }
  return boards.sort((a, b) => a.board - b.board);
}

/** Records in the board's manifest which chip (MAC) it was flashed to, so later runs can match ports by MAC. */
export async function rememberMac(board: BuiltBoard, mac: string): Promise<void> {
  const path = join(board.dir, 'manifest.json');
  const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  if (m.mac === mac) return;
  m.mac = mac;
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`);
  await rename(tmp, path);
  board.mac = mac;
}
