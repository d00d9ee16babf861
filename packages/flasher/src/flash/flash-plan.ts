/**
 * `flashPlan`: every board of a build at once — each on its own port, in parallel. Per board, in
 * esptool's order: sync (ROM or stub?), refuse the wrong chip, watchdogs off on USB-Serial/JTAG, upload
 * the stub when one is given, switch the baud rate, attach the flash, read the chip's MAC (refusing
 * another chip than the one the build recorded) and its flash size (refusing too small a flash, saying
 * which port has what) and set the flash parameters; then for each region (the partition table at
 * 0x8000, the model image at its partition, and app/bootloader when given): skip it when the chip's MD5
 * already matches, else write it chunk by chunk (`./chunks.ts`), skipping the chunks whose MD5 already
 * matches, verifying each written chunk's MD5 and rewriting it once when that fails. Re-running after an
 * interruption therefore resumes at the first chunk not in place. One board failing never stops the
 * others; the result lists what happened on each.
 */

import { md5 } from '@noble/hashes/legacy';
import { bytesToHex } from '@noble/hashes/utils';
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { EspLoader, type LoaderOptions } from '../loader/loader.js';
import { canReset, type ResetWiring, resetIntoBootloader } from '../loader/reset.js';
import type { LoaderKind } from '../protocol/status.js';
import type { StubImage } from '../stub/stub.js';
import { chunksOf, DEFAULT_CHUNK_BYTES } from './chunks.js';

export interface FlashRegion {
  name: string;
  offset: number;
  bytes: Uint8Array;
}

export interface BoardImage {
  board: number;
  /** The chip the build is for (`esp32s3`). */
  chip: string;
  /** The board profile's flash size; a smaller chip is refused. */
  flashBytes: number;
  regions: FlashRegion[];
  /**
   * The chip (MAC) this board's build was flashed to before (`readBuild`: the manifest's record): another
   * chip on the port is refused before anything is written (WRONG_BOARD), unless `forgetMacs`.
   */
  mac?: string | undefined;
}

/** What `buildPlan` (@tinypipe/partitioner) makes for one board, as far as flashing needs it. */
export interface BuiltFiles {
  manifest: { board: number; chip: string; flashBytes: number };
  files: readonly { name: string; bytes: Uint8Array; offset?: number | undefined }[];
}

/** A board's build in memory (no build folder: a browser, the demo) → what `flashPlan` writes. */
export function boardImage(build: BuiltFiles): BoardImage {
  return {
    board: build.manifest.board,
    chip: build.manifest.chip,
    flashBytes: build.manifest.flashBytes,
    regions: build.files
      .filter((f) => f.offset !== undefined)
      .map((f) => ({ name: f.name, offset: f.offset!, bytes: f.bytes }))
      .sort((a, b) => a.offset - b.offset),
  };
}

export interface FlashTarget {
  image: BoardImage;
  port: string;
  transport: Transport;
  /**
   * The board's reset wiring: with modem lines it is reset into the bootloader first and hard-reset into
   * its firmware after; default 'none' (already in download mode; left in-band, see `EspLoader.leave`).
   */
  reset?: ResetWiring;
}

export type FlashEvent =
  | {
      board: number;
      port: string;
      kind: 'connected';
      chip: string;
      mac: string;
      /** Who answered once connected: the chip's ROM loader, or the flasher stub. */
      loader: LoaderKind;
      /** The flash chip's JEDEC id (manufacturer | type << 8 | capacity << 16). */
      flashId: number;
      /** Flash bytes from the id (esptool's table); the profile's when the table does not know the id. */
      flashBytes: number;
      flashSizeKnown: boolean;
    }
  | { board: number; port: string; kind: 'skipped'; region: string; bytes: number }
  /** Part of a region is already in place (an interrupted earlier run): `bytes` of `total` are not rewritten. */
  | { board: number; port: string; kind: 'resumed'; region: string; bytes: number; total: number }
  | { board: number; port: string; kind: 'progress'; region: string; done: number; total: number }
  | { board: number; port: string; kind: 'verified'; region: string; bytes: number }
  | { board: number; port: string; kind: 'rewrite'; region: string; reason: string }
  | { board: number; port: string; kind: 'done'; ms: number }
  | { board: number; port: string; kind: 'failed'; error: TinypipeError };

export interface BoardResult {
  board: number;
  port: string;
  ok: boolean;
  mac?: string;
  /** Who answered once connected: the ROM loader, or the flasher stub. */
  loader?: LoaderKind;
  written: string[];
  skipped: string[];
  bytesWritten: number;
  ms: number;
  error?: TinypipeError;
}

export interface FlashOptions extends LoaderOptions {
  /** Switch the line to this rate after SYNC (CHANGE_BAUDRATE), when the transport can. */
  baud?: number;
  /**
   * Upload this flasher stub (esptool's stub JSON: `parseStub`, or `loadStub` from `./node`) and flash
   * through it: 16 KiB blocks instead of the ROM's 1 KiB. Default: the ROM loader.
   */
  stub?: StubImage;
  onEvent?: (e: FlashEvent) => void;
  /** Leave the bootloader and run the firmware afterwards (`EspLoader.leave`). Default true; false stays in the loader. */
  reboot?: boolean;
  /**
   * Regions are written in chunks of this many bytes, each its own FLASH_DEFL_BEGIN…DATA checked by its
   * own MD5, so an interrupted write resumes at the first chunk not in place (`./chunks.ts`). A multiple
   * of the flash's 4 KiB sector; default 256 KiB.
   */
  chunkBytes?: number;
  /** Flash whatever chip is on each port, ignoring the MAC its build recorded (a replaced board). Default false. */
  forgetMacs?: boolean;
}

const CHIPS: Readonly<Record<string, number>> = { esp32s3: 9, esp32p4: 18 };

/**
 * The chip on `target.port` is not the one its board's build recorded. `others`: the plan's other boards,
 * to say whose chip it is when the ports are swapped.
 */
function wrongBoard(target: FlashTarget, mac: string, others: readonly FlashTarget[]): TinypipeError {
  const { image, port } = target;
  const owner = others.find((o) => o !== target && o.image.mac === mac);
  const whose = owner
    ? `${mac} is board ${owner.image.board}'s chip, and board ${image.board}'s (${image.mac}) may be on ${owner.port}, given for board ${owner.image.board}: the ports are swapped — give them in board order`
    : `If ${image.mac} is on another port, give the ports in board order; if board ${image.board} was replaced, pass --forget-macs (flashPlan's forgetMacs) to pair it anew`;
  return new TinypipeError(
    'WRONG_BOARD',
    `${port} has the chip ${mac}, but board ${image.board}'s build was flashed to ${image.mac}; nothing was written. ${whose}`,
    {
      details: {
        port,
        board: image.board,
        mac,
        expected: image.mac,
        ...(owner ? { swappedWith: owner.port } : {}),
      },
    },
  );
}

/** Ports given twice (each would fight the other for the device): INVALID_ARGUMENT, before anything is opened or sent. */
export function checkDistinctPorts(ports: readonly string[]): void {
  const seen = new Map<string, number>();
  for (const [i, port] of ports.entries()) {
    const first = seen.get(port);
    if (first !== undefined)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `${port} is given for board ${first} and board ${i}: each board needs its own port`,
        { details: { port, boards: [first, i] } },
      );
    seen.set(port, i);
  }
}

/**
 * One board, as `flashPlan` runs each target. `others`: the plan's targets, so a chip that belongs to
 * another board can be named with that board's port (swapped ports).
 */
export async function flashBoard(
  target: FlashTarget,
  options: FlashOptions = {},
  others: readonly FlashTarget[] = [],
): Promise<BoardResult> {
  const { image, port } = target;
  const emit = (e: Record<string, unknown>) =>
    options.onEvent?.({ board: image.board, port, ...e } as FlashEvent);
  const started = performance.now();
  const result: BoardResult = {
    board: image.board,
    port,
    ok: false,
    written: [],
    skipped: [],
    bytesWritten: 0,
    ms: 0,
  };
  const loader = new EspLoader(target.transport, port, options);
  try {
    const t = target.transport;
    const wiring = target.reset ?? 'none';
    if (wiring !== 'none' && canReset(t)) await resetIntoBootloader(t, wiring);
    const found = await loader.sync();
    const chip = await loader.chip();
    const wanted = CHIPS[image.chip];
    if (wanted !== undefined && chip.id !== wanted)
      throw new TinypipeError(
        'WRONG_CHIP',
        `${port} has an ${chip.name}; board ${image.board}'s build is for ${image.chip}: check the --port order`,
        { details: { port, chip: chip.name, expected: image.chip } },
      );
    if (found === 'rom' && wiring === 'usb-jtag-serial') await loader.disableWatchdogs();
    if (options.stub) await loader.runStub(options.stub);
    if (options.baud) await loader.changeBaud(options.baud);
    await loader.attachFlash();
    const mac = await loader.mac();
    if (image.mac && image.mac !== mac && !options.forgetMacs) throw wrongBoard(target, mac, others);
    const size = await loader.flashSize();
    const flashBytes = size.bytes ?? image.flashBytes;
    await loader.setFlashParams(flashBytes);
    result.mac = mac;
    result.loader = loader.kind;
    emit({
      kind: 'connected',
      chip: chip.name,
      mac,
      loader: loader.kind,
      flashId: size.id,
      flashBytes,
      flashSizeKnown: size.bytes !== undefined,
    });
    if (flashBytes < image.flashBytes)
      throw new TinypipeError(
        'FLASH_TOO_SMALL',
        `${port} (${mac}) has ${flashBytes / 1048576} MiB of flash; board ${image.board}'s profile needs ${image.flashBytes / 1048576} MiB: plan with the right module`,
        { details: { port, flashBytes, expected: image.flashBytes } },
      );
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    for (const region of image.regions) {
      const total = region.bytes.length;
      if ((await loader.md5(region.offset, total)) === bytesToHex(md5(region.bytes))) {
        result.skipped.push(region.name);
        emit({ kind: 'skipped', region: region.name, bytes: total });
        continue;
      }
      // an interrupted earlier run left some chunks in place: their MD5s say which (hashed one at a time,
      // each between two commands, so the event loop is never held for the whole region)
      const chunks = chunksOf(region.offset, total, chunkBytes);
      const todo = [];
      for (const c of chunks) {
        const bytes = region.bytes.subarray(c.start, c.start + c.size);
        const want = bytesToHex(md5(bytes));
        if (chunks.length === 1 || (await loader.md5(c.offset, c.size)) !== want)
          todo.push({ ...c, bytes, want });
      }
      let done = total - todo.reduce((n, c) => n + c.size, 0);
      if (done > 0) emit({ kind: 'resumed', region: region.name, bytes: done, total });
      for (const c of todo) {
        for (let attempt = 1; ; attempt++) {
          await loader.write(c.offset, c.bytes, (d) =>
            emit({ kind: 'progress', region: region.name, done: done + d, total }),
          );
          result.bytesWritten += c.size;
          const got = await loader.md5(c.offset, c.size);
          if (got === c.want) break;
          if (attempt >= 2)
            throw new TinypipeError(
              'FLASH_VERIFY_FAILED',
              `${port}: ${region.name} at 0x${c.offset.toString(16)} (${c.size} bytes) reads back MD5 ${got}, expected ${c.want}, after rewriting it: the flash may be worn or the line noisy`,
            );
          emit({
            kind: 'rewrite',
            region: region.name,
            reason: `MD5 ${got} ≠ ${c.want} at 0x${c.offset.toString(16)}`,
          });
        }
        done += c.size;
      }
      result.written.push(region.name);
      emit({ kind: 'verified', region: region.name, bytes: total });
    }
    if (options.reboot !== false) await loader.leave(wiring);
    result.ok = true;
  } catch (e) {
    result.error = TinypipeError.isInstance(e)
      ? e
      : new TinypipeError('FLASH_FAILED', `${port}: ${String(e)}`, { cause: e });
    emit({ kind: 'failed', error: result.error });
  } finally {
    result.ms = performance.now() - started;
    await loader.close().catch(() => {});
  }
  if (result.ok) emit({ kind: 'done', ms: result.ms });
  return result;
}

/**
 * Flashes every target in parallel; each board's result says what happened to it (one failing never
 * stops the others). Rejects only when the targets themselves are wrong — a port name or a transport
 * given twice (INVALID_ARGUMENT) — before anything is sent.
 */
export async function flashPlan(
  targets: readonly FlashTarget[],
  options: FlashOptions = {},
): Promise<BoardResult[]> {
  checkDistinctPorts(targets.map((t) => t.port));
  const shared = targets.findIndex((t, i) => targets.findIndex((o) => o.transport === t.transport) !== i);
  if (shared >= 0)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${targets[shared]!.image.board} (${targets[shared]!.port}) is given a transport another board already has: each board needs its own port`,
    );
  chunksOf(0, 0, options.chunkBytes); // a bad chunk size refused up front, not per board
  return Promise.all(targets.map((t) => flashBoard(t, options, targets)));
}
