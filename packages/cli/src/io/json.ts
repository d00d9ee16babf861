import { readFile } from 'node:fs/promises';
import { type ErrorCode, TinypipeError } from '@tinypipe/protocol';

/** Reads and parses a JSON file; `code` ("cannot read `what` PATH: why") when it is missing or not JSON. */
export async function readJsonFile(path: string, code: ErrorCode, what: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new TinypipeError(code, `cannot read ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}
