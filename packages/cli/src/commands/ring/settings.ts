/**
 * The story settings of a standalone ring (board 0's defaults: docs/protocol.md §4.5), as `tinypipe build
 * --standalone` and `tinypipe demo --standalone` take them, and the files a ring build adds.
 */
import { join } from 'node:path';
import type { Tokenizer } from '@tinypipe/core';
import { writeFileAtomic } from '@tinypipe/core/node';
import {
  type Plan,
  RING_DEFAULTS,
  type RingSettings,
  ringBoardConfigs,
  ringReadme,
} from '@tinypipe/partitioner';
import { usageError } from '../../io/errors.js';

/** The flags behind the settings: commander's names are the settings' own. */
export type RingSettingFlags = Partial<RingSettings>;

/** The settings from the flags, the ring's defaults for the rest; a usage error for a value out of range. */
export function ringSettings(flags: RingSettingFlags, defaults: Partial<RingSettings> = {}): RingSettings {
  const s: RingSettings = { ...RING_DEFAULTS, ...defaults };
  for (const key of Object.keys(s) as (keyof RingSettings)[])
    if (flags[key] !== undefined) (s as unknown as Record<string, unknown>)[key] = flags[key];
  if (s.steps < 1) throw usageError('--steps must be at least 1');
  if (!(s.temperature >= 0)) throw usageError('--temperature must be at least 0 (0: greedy)');
  if (!(s.topp >= 0 && s.topp <= 1)) throw usageError('--topp must be in [0, 1]');
  if (s.parallel < 1 || s.parallel > 16) throw usageError('--parallel must be 1 to 16');
  if (s.seed > 2_147_483_647)
    throw usageError('--seed must be at most 2147483647 (the ESP-IDF Kconfig range)');
  if (new TextEncoder().encode(s.prompt).length > 255)
    throw usageError('--prompt must be at most 255 bytes (a console line of board 0)');
  return s;
}

/** What the ring's boards are built with: the tokenizer for board 0's image and the prompt as the firmware reads it. */
export function ringBuildOptions(settings: RingSettings, tokenizer: Tokenizer) {
  // board 0's image holds the tokenizer: the driver encodes the text prompt itself
  return { tokenizer, ring: { settings, prompt: settings.prompt } };
}

/**
 * Writes the ring's README (`ring.md`: what to build per board, the wiring, flashing and reading the story)
 * into the build folder `out`, for board 0's image with the tokenizer section; resolves to its path.
 */
export async function writeRingReadme(out: string, plan: Plan, settings: RingSettings): Promise<string> {
  const md = ringReadme(plan, ringBoardConfigs(plan, settings, settings.prompt), settings, true);
  const path = join(out, 'ring.md');
  await writeFileAtomic(path, new TextEncoder().encode(md));
  return path;
}
