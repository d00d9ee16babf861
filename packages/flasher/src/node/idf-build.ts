/**
 * An ESP-IDF build folder's bootloader and app, to flash with a plan's images (`tinypipe flash
 * --idf-build DIR`). ESP-IDF writes `flasher_args.json` ("flash_files": offset → file) next to them; the
 * partition table it lists is skipped — the plan's (same layout, ports/esp-idf/partitions.csv) is flashed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';
import type { FlashRegion } from '../flash/flash-plan.js';

const FACTORY_END = 0x1f0000; // the app must end before the model partition

export async function readIdfBuild(dir: string): Promise<FlashRegion[]> {
  let args: { flash_files?: Record<string, string> };
  try {
    args = JSON.parse(await readFile(join(dir, 'flasher_args.json'), 'utf8'));
  } catch (cause) {
    throw new TinypipeError(
      'BUILD_INVALID',
      `${dir}/flasher_args.json is missing or not JSON: is this an ESP-IDF build folder (idf.py build)?`,
      {
        cause,
      },
    );
  }
  const regions: FlashRegion[] = [];
  for (const [at, file] of Object.entries(args.flash_files ?? {})) {
    const offset = Number.parseInt(at, 16);
    if (!Number.isFinite(offset))
      throw new TinypipeError('BUILD_INVALID', `${dir}/flasher_args.json: offset "${at}" is not hex`);
    if (offset === 0x8000) continue; // the plan brings its own partition table
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(join(dir, file)));
    } catch (cause) {
      throw new TinypipeError('BUILD_INVALID', `${dir}/${file} (listed in flasher_args.json) is missing`, {
        cause,
      });
    }
    if (offset + bytes.length > FACTORY_END)
      throw new TinypipeError(
        'BUILD_INVALID',
        `${file} at 0x${offset.toString(16)} is ${bytes.length} bytes and would reach into the model partition at 0x1f0000`,
      );
    regions.push({ name: file.split('/').pop()!, offset, bytes });
  }
  if (regions.length === 0)
    throw new TinypipeError('BUILD_INVALID', `${dir}/flasher_args.json lists no bootloader or app`);
  return regions.sort((a, b) => a.offset - b.offset);
}
