/** Test helper: the TinypipeError code a call throws, or 'NO ERROR'; anything else is rethrown. */
import { TinypipeError } from '@tinypipe/protocol';

export function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e.code;
    throw e;
  }
  return 'NO ERROR';
}

export async function codeOfAsync(f: () => Promise<unknown>): Promise<string> {
  try {
    await f();
  } catch (e) {
    if (TinypipeError.isInstance(e)) return e.code;
    throw e;
  }
  return 'NO ERROR';
}
