/**
 * `flashPlan`: every board of a build at once — each on its own port, in parallel. Per board, in
 * esptool's order: sync (ROM or stub?), refuse the wrong chip, watchdogs off on USB-Serial/JTAG, upload
 * the stub when one is given, switch the baud rate, attach the flash, read its size (refusing too small a
 * flash, saying which port has what) and set the flash parameters; then for each region (the
 * partition table at 0x8000, the model image at its partition, and app/bootloader when given): skip it
 * when the chip's MD5 already matches, else write it compressed and verify its MD5, rewriting once when
 * verification fails. Re-running after an interruption therefore resumes: finished regions are skipped.
 * One board failing never stops the others; the result lists what happened on each.
 */

import { md5 } from '@noble/hashes/legacy';
import { TinypipeError, type Transport } from '@tinypipe/core';
import { EspLoader, type LoaderOptions } from '../loader/loader.js';
import { canReset, type ResetWiring, resetIntoBootloader } from '../loader/reset.js';
import type { LoaderKind } from '../protocol/status.js';
import type { StubImage } from '../stub/stub.js';

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
}

const CHIPS: Readonly<Record<string, number>> = { esp32s3: 9, esp32p4: 18 };
const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

export async function flashBoard(target: FlashTarget, options: FlashOptions = {}): Promise<BoardResult> {
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
    for (const region of image.regions) {
      const want = hex(md5(region.bytes));
      if ((await loader.md5(region.offset, region.bytes.length)) === want) {
        result.skipped.push(region.name);
        emit({ kind: 'skipped', region: region.name, bytes: region.bytes.length });
        continue;
      }
      for (let attempt = 1; ; attempt++) {
        await loader.write(region.offset, region.bytes, (done, total) =>
          emit({ kind: 'progress', region: region.name, done, total }),
        );
        result.bytesWritten += region.bytes.length;
        const got = await loader.md5(region.offset, region.bytes.length);
        if (got === want) break;
        if (attempt >= 2)
          throw new TinypipeError(
            'FLASH_VERIFY_FAILED',
            `${port}: ${region.name} at 0x${region.offset.toString(16)} reads back MD5 ${got}, expected ${want}, after rewriting it: the flash may be worn or the line noisy`,
          );
        emit({ kind: 'rewrite', region: region.name, reason: `MD5 ${got} ≠ ${want}` });
      }
      result.written.push(region.name);
      emit({ kind: 'verified', region: region.name, bytes: region.bytes.length });
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

/** Flashes every target in parallel; never rejects — each board's result says what happened to it. */
export function flashPlan(
  targets: readonly FlashTarget[],
  options: FlashOptions = {},
): Promise<BoardResult[]> {
  return Promise.all(targets.map((t) => flashBoard(t, options)));
}
