/**
 * Reading a `tinypipe build` folder: each `board-N/manifest.json` and its files, every SHA-256 checked
 * (BUILD_INVALID otherwise), every file name inside its folder (PATH_OUTSIDE), every region inside the
 * partition it names (BAD_OFFSET), all boards from one build (MIXED_BUILD), into the regions
 * `flashPlan` writes. Writing one: `writeBuild` (a temp folder beside the target, renamed into place).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { resolveInside } from '@tinypipe/core/node';
import { KV_FORMATS, TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';
import type { BoardImage } from '../flash/flash-plan.js';
import { checkRegions } from './regions.js';

const ManifestSchema = v.looseObject({
  board: v.pipe(v.number(), v.integer(), v.minValue(0)),
  /** Shared by every board of one `tinypipe build` (absent in builds from before it existed). */
  build: v.optional(v.pipe(v.string(), v.regex(/^[0-9a-f]{16}$/))),
  quant: v.optional(v.string()),
  mac: v.optional(v.string()),
  chip: v.string(),
  flashBytes: v.pipe(v.number(), v.integer(), v.minValue(1)),
  fingerprint: v.string(),
  layers: v.tuple([v.number(), v.number()]),
  /** The plan's KV cache format (absent in builds from before issue 20: fp32). */
  kv: v.optional(v.picklist(KV_FORMATS)),
  /** Board 0 of a plan with the embedding on the host: the host's image in this folder. Not flashed. */
  host: v.optional(
    v.object({
      path: v.string(),
      sha256: v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/)),
      bytes: v.pipe(v.number(), v.integer(), v.minValue(0)),
    }),
  ),
  files: v.array(
    v.object({
      name: v.string(),
      bytes: v.number(),
      sha256: v.string(),
      offset: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
      partition: v.optional(v.string()),
    }),
  ),
});
type Manifest = v.InferOutput<typeof ManifestSchema>;

export interface BuiltBoard extends BoardImage {
  fingerprint: string;
  layers: [number, number];
  /** The build id every board of one `tinypipe build` shares (undefined for older builds). */
  build?: string | undefined;
  /** The chip it was last flashed to, when `rememberMac` recorded it: ports are matched by it. */
  mac?: string | undefined;
  /** Its folder (for `rememberMac`). */
  dir: string;
}

const invalid = (message: string, cause?: unknown) =>
  new TinypipeError('BUILD_INVALID', message, cause ? { cause } : {});

async function readManifest(folder: string): Promise<Manifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8'));
  } catch (cause) {
    throw invalid(`${folder}/manifest.json is missing or not JSON: rebuild`, cause);
  }
  const parsed = v.safeParse(ManifestSchema, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    throw invalid(
      `${folder}/manifest.json: ${v.getDotPath(issue) ?? '(root)'}: ${issue.message}: rebuild with tinypipe build`,
    );
  }
  return parsed.output;
}

/** Refuses boards of different builds (a rebuild that stopped half way, or board folders copied together). */
function checkOneBuild(boards: readonly BuiltBoard[]): void {
  const ids = new Set(boards.map((b) => b.build ?? 'none'));
  if (ids.size <= 1) return;
  const list = boards.map((b) => `board ${b.board} ${b.build ?? '(no build id)'}`).join(', ');
  throw new TinypipeError(
    'MIXED_BUILD',
    `the boards come from different builds (${list}): run tinypipe build again into an empty --out and flash every board`,
    { details: { builds: boards.map((b) => ({ board: b.board, build: b.build ?? null })) } },
  );
}

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
    const m = await readManifest(folder);
    const regions = [];
    for (const f of m.files) {
      if (f.offset === undefined) continue;
      const path = await resolveInside(
        folder,
        f.name,
        'manifest entry',
        'a manifest names files in its own folder only; rebuild with tinypipe build',
      );
      let bytes: Uint8Array;
      try {
        bytes = new Uint8Array(await readFile(path));
      } catch (cause) {
        throw invalid(`${folder}/${f.name} is missing`, cause);
      }
      const sha = createHash('sha256').update(bytes).digest('hex');
      if (sha !== f.sha256)
        throw invalid(
          `${folder}/${f.name} does not match its manifest (SHA-256 ${sha}, expected ${f.sha256}): rebuild`,
        );
      regions.push({ name: f.name, offset: f.offset, bytes, partition: f.partition });
    }
    checkRegions(folder, regions, m.flashBytes);
    regions.sort((a, b) => a.offset - b.offset);
    boards.push({
      board: m.board,
      chip: m.chip,
      flashBytes: m.flashBytes,
      fingerprint: m.fingerprint,
      layers: [m.layers[0], m.layers[1]],
      build: m.build,
      mac: m.mac,
      dir: folder,
      regions: regions.map(({ name, offset, bytes }) => ({ name, offset, bytes })),
    });
  }
  boards.sort((a, b) => a.board - b.board);
  checkOneBuild(boards);
  return boards;
}

/** One board folder to write: its files and its manifest (written last). */
export interface BoardFolder {
  dir: string;
  files: readonly { name: string; bytes: Uint8Array }[];
  manifest: unknown;
}

export interface WriteBuildOptions {
  /** The file writer (tests inject one that fails with ENOSPC). */
  writeFile?: (path: string, bytes: Uint8Array) => Promise<void>;
  signal?: AbortSignal;
}

const FULL = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Writes a whole build into a temp folder beside `out` (manifests last in each board), then swaps it
 * into place: a build that fails half way (a full disk, an abort) leaves the previous build untouched
 * and no temp files behind.
 *
 * @throws TinypipeError DISK_FULL, FILE_WRITE_FAILED
 */
export async function writeBuild(
  out: string,
  boards: readonly BoardFolder[],
  options: WriteBuildOptions = {},
): Promise<void> {
  const write = options.writeFile ?? ((p: string, b: Uint8Array) => writeFile(p, b));
  const tag = randomBytes(6).toString('hex');
  const tmp = join(dirname(out), `.${basename(out)}.${tag}.tmp`);
  const old = join(dirname(out), `.${basename(out)}.${tag}.old`);
  try {
    await mkdir(dirname(out), { recursive: true });
    await mkdir(tmp);
    for (const board of boards) {
      options.signal?.throwIfAborted();
      const folder = join(tmp, board.dir);
      await mkdir(folder);
      for (const f of board.files) await write(join(folder, f.name), f.bytes);
      await write(
        join(folder, 'manifest.json'),
        new TextEncoder().encode(`${JSON.stringify(board.manifest, null, 2)}\n`),
      );
    }
    let moved = false;
    try {
      await rename(out, old);
      moved = true;
    } catch (cause) {
      if ((cause as NodeJS.ErrnoException).code !== 'ENOENT') throw cause;
    }
    try {
      await rename(tmp, out);
    } catch (cause) {
      if (moved) await rename(old, out);
      throw cause;
    }
    if (moved) await rm(old, { recursive: true, force: true });
  } catch (cause) {
    await rm(tmp, { recursive: true, force: true });
    if (TinypipeError.isInstance(cause) || (cause as Error).name === 'AbortError') throw cause;
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && FULL.has(code))
      throw new TinypipeError(
        'DISK_FULL',
        `${out}: the disk is full (${code}); the previous build there is untouched — free space (or write to another --out) and build again`,
        { cause, details: { path: out, errno: code } },
      );
    throw new TinypipeError(
      'FILE_WRITE_FAILED',
      `${out}: cannot write the build (${code ?? String(cause)})`,
      {
        cause,
        details: { path: out },
      },
    );
  }
}

/** Records in the board's manifest which chip (MAC) it was flashed to, so later runs can match ports by MAC. */
export async function rememberMac(board: BuiltBoard, mac: string): Promise<void> {
  const path = join(board.dir, 'manifest.json');
  const m = JSON.parse(await readFile(path, 'utf8')) as Manifest;
  if (m.mac === mac) return;
  m.mac = mac;
  const tmp = join(board.dir, `.manifest.json.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(tmp, `${JSON.stringify(m, null, 2)}\n`);
    await rename(tmp, path);
  } catch (cause) {
    await rm(tmp, { force: true });
    const code = (cause as NodeJS.ErrnoException).code;
    if (code !== undefined && FULL.has(code))
      throw new TinypipeError(
        'DISK_FULL',
        `${path}: the disk is full (${code}), so the board's MAC was not recorded (the flash itself is done): free space`,
        { cause, details: { path, errno: code } },
      );
    throw cause;
  }
  board.mac = mac;
}
