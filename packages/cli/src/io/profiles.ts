/**
 * Board profiles named on the command line: a built-in name (`esp32s3-n16r8`) or a JSON file (`*.json`: a
 * custom profile, or one `tinypipe calibrate --out` wrote), validated against the partitioner's schema.
 */
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { TinypipeError } from '@tinypipe/core';
import { type BoardProfile, builtinProfile, parseProfile } from '@tinypipe/partitioner';
import type { CliContext } from './context.js';

/** True when `spec` names a profile file rather than a built-in profile. */
export const isProfileFile = (spec: string): boolean => spec.endsWith('.json');

/** The profile `spec` names; BOARD_UNKNOWN or PROFILE_INVALID (unreadable, not JSON, or not a profile). */
export async function resolveProfile(ctx: CliContext, spec: string): Promise<BoardProfile> {
  if (!isProfileFile(spec)) return builtinProfile(spec);
  const path = resolve(ctx.cwd, spec);
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new TinypipeError(
      'PROFILE_INVALID',
      `cannot read the board profile ${path}: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return parseProfile(json, basename(path));
}
