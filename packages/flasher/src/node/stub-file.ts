/**
 * `loadStub(source)`: a flasher stub image for `flashPlan({ stub })`, from a file in esptool's stub JSON
 * format, or — with `source` 'esptool-js' — from the esptool-js package when it is installed (an optional
 * peer: its `lib/targets/stub_flasher/<chip>.json`). We never ship a stub ourselves.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { TinypipeError } from '@tinypipe/protocol';
import { parseStub, type StubImage } from '../stub/stub.js';

export const ESPTOOL_JS = 'esptool-js';

/** Where esptool-js keeps its stub for `chip` (`esp32s3`), resolved from here, then from `cwd`; undefined when not installed. */
export function esptoolJsStubPath(chip = 'esp32s3', cwd = process.cwd()): string | undefined {
  const id = `${ESPTOOL_JS}/lib/targets/stub_flasher/${chip}.json`;
  for (const base of [import.meta.url, join(cwd, 'package.json')]) {
    try {
      return createRequire(base).resolve(id);
    } catch {
      // not installed where this base looks: try the next
    }
  }
  return undefined;
}

export async function loadStub(
  source: string,
  options: { chip?: string; cwd?: string } = {},
): Promise<StubImage> {
  let path = source;
  if (source === ESPTOOL_JS) {
    const found = esptoolJsStubPath(options.chip, options.cwd);
    if (!found)
      throw new TinypipeError(
        'FILE_NOT_FOUND',
        `esptool-js is not installed, so its flasher stub is not available: npm install esptool-js, or pass the path of a stub JSON (esptool's targets/stub_flasher/${options.chip ?? 'esp32s3'}.json)`,
      );
    path = found;
  }
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    throw new TinypipeError(
      (cause as NodeJS.ErrnoException).code === 'ENOENT' ? 'FILE_NOT_FOUND' : 'FILE_READ_FAILED',
      `cannot read the flasher stub ${path}: ${(cause as Error).message}`,
      { cause },
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new TinypipeError(
      'STUB_INVALID',
      `${path} is not JSON (${(cause as Error).message}): a flasher stub is esptool's stub JSON (e.g. esptool-js lib/targets/stub_flasher/esp32s3.json)`,
      { cause },
    );
  }
  return parseStub(json, path);
}
