/**
 * Board profiles named on the command line: a built-in name (`esp32s3-n16r8`) or a JSON file (`*.json`: a
 * custom profile, or one `tinypipe calibrate --out` wrote), validated against the partitioner's schema.
 */
import { basename, resolve } from 'node:path';
import { type BoardProfile, builtinProfile, parseProfile } from '@tinypipe/partitioner';
import type { CliContext } from './context.js';
import { readJsonFile } from './json.js';

/** The profile `spec` names; BOARD_UNKNOWN or PROFILE_INVALID (unreadable, not JSON, or not a profile). */
export async function resolveProfile(ctx: CliContext, spec: string): Promise<BoardProfile> {
  if (!spec.endsWith('.json')) return builtinProfile(spec);
  const path = resolve(ctx.cwd, spec);
  const json = await readJsonFile(path, 'PROFILE_INVALID', 'the board profile');
  return parseProfile(json, basename(path));
}
