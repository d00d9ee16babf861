/**
 * The story defaults of a weight image (docs/image-format.md §4c): what the standalone driver of board 0
 * tells when nobody types on its console — its header field, the `story.defaults` record written from a
 * `StoryDefaults`, and the record read back and checked. The firmware's `tp_image_story` applies the same
 * rules (packages/firmware/src/image_story.c).
 */
import { TinypipeError } from '@tinypipe/protocol';
import { HEADER, type StoryLayout } from './format.js';
import type { ImageHeader, ImageTensorEntry } from './types.js';

/** Bytes of the fixed part of `story.defaults`; the prompt's bytes follow. */
export const STORY_RECORD_BYTES = 24;
/** The longest prompt, in UTF-8 bytes: a console line of board 0 (the driver's prompt buffer). */
export const STORY_PROMPT_MAX_BYTES = 255;
/** The most stories at once a board runs (the firmware's TP_SERVE_MAX_STREAMS). */
export const STORY_PARALLEL_MAX = 16;

/** Board 0's story settings, as the image stores them (docs/image-format.md §4c). */
export interface StoryDefaults {
  /** The default prompt: text when the image holds the tokenizer, else token ids ("1 403 407"). */
  readonly prompt: string;
  /** Positions per story, the prompt included: 1..seq_len. */
  readonly steps: number;
  /** llama2.c's sampler temperature (0: greedy), stored as binary32. */
  readonly temperature: number;
  /** llama2.c's top-p in [0, 1] (0 and 1: no cut), stored as binary32. */
  readonly topp: number;
  /** Story n (from 1) is seeded `seed + n − 1` (u64). */
  readonly seed: bigint;
  /** Stories at once, at most: 1..16 (the ring's smallest stream count caps it). */
  readonly parallel: number;
}

/** `StoryDefaults` as `buildImage` takes them: the seed may be a number (a safe integer ≥ 0). */
export type StoryDefaultsInput = Omit<StoryDefaults, 'seed'> & { readonly seed: number | bigint };

/**
 * The header's `story_bytes` for a header whose flags were checked: with the story flag 24 + 0..255, without
 * it (and in versions 1 and 2, where these bytes are reserved) 0. Throws `IMAGE_BAD_HEADER`.
 */
export function decodeStoryField(dv: DataView, version: number, flag: boolean): StoryLayout | undefined {
  if (version < 3) return undefined; // the reserved-zero check covered these bytes
  const bytes = dv.getUint32(HEADER.storyBytes, true);
  const ok = flag
    ? bytes >= STORY_RECORD_BYTES && bytes <= STORY_RECORD_BYTES + STORY_PROMPT_MAX_BYTES
    : bytes === 0;
  if (!ok) {
    throw new TinypipeError(
      'IMAGE_BAD_HEADER',
      `weight image header: story_bytes ${bytes} ` +
        (flag
          ? `must be ${STORY_RECORD_BYTES}..${STORY_RECORD_BYTES + STORY_PROMPT_MAX_BYTES}`
          : 'must be 0 without the story flag') +
        '. The image is corrupt or was not written by a compatible tinypipe; rebuild it.',
      { details: { field: 'story_bytes', actual: bytes, flag } },
    );
  }
  return flag ? { bytes } : undefined;
}

/** True when `b` is well-formed UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF) with no NUL. */
function utf8NoNul(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; ) {
    const c = b[i] as number;
    if (c === 0) return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0 || i + n >= b.length) return false; // a bad lead byte, or cut short
    const c1 = b[i + 1] as number;
    const lo = c === 0xe0 ? 0xa0 : c === 0xf0 ? 0x90 : 0x80;
    const hi = c === 0xed ? 0x9f : c === 0xf4 ? 0x8f : 0xbf;
    if (c1 < lo || c1 > hi) return false;
    for (let k = 2; k <= n; k++) if (((b[i + k] as number) & 0xc0) !== 0x80) return false;
    i += n + 1;
  }
  return true;
}

/**
 * What is wrong with these settings for a model of `seqLen` positions, or undefined: temperature finite
 * and ≥ 0, top-p in [0, 1], steps 1..seq_len, parallel 1..16, the prompt at most 255 bytes of UTF-8 with no
 * NUL. The seed is any u64.
 */
function storyProblem(
  s: Omit<StoryDefaults, 'prompt' | 'seed'>,
  prompt: Uint8Array,
  seqLen: number,
): string | undefined {
  if (!(Number.isFinite(s.temperature) && s.temperature >= 0))
    return `temperature ${s.temperature} must be finite and >= 0`;
  if (!(s.topp >= 0 && s.topp <= 1)) return `topp ${s.topp} must be in [0, 1]`;
  if (!Number.isInteger(s.steps) || s.steps < 1 || s.steps > seqLen)
    return `steps ${s.steps} must be 1..${seqLen} (the model's seq_len)`;
  if (!Number.isInteger(s.parallel) || s.parallel < 1 || s.parallel > STORY_PARALLEL_MAX)
    return `parallel ${s.parallel} must be 1..${STORY_PARALLEL_MAX}`;
  if (prompt.length > STORY_PROMPT_MAX_BYTES)
    return `the prompt is ${prompt.length} bytes, more than ${STORY_PROMPT_MAX_BYTES}`;
  if (!utf8NoNul(prompt)) return 'the prompt is not UTF-8 without NUL bytes';
  return undefined;
}

/**
 * The `story.defaults` record for `story` in an image of a model with `seqLen` positions (little-endian:
 * temperature f32, topp f32, seed u64, steps u32, parallel u16, prompt bytes u16, the prompt). Throws
 * `INVALID_ARGUMENT` for settings the readers would refuse (temperature and top-p are checked as binary32).
 */
export function encodeStory(story: StoryDefaultsInput, seqLen: number): Uint8Array {
  const prompt = new TextEncoder().encode(story.prompt);
  const seed =
    typeof story.seed === 'bigint' ? story.seed : Number.isSafeInteger(story.seed) ? BigInt(story.seed) : -1n;
  const stored = { ...story, temperature: Math.fround(story.temperature), topp: Math.fround(story.topp) };
  const why =
    seed < 0n || seed >= 1n << 64n
      ? `seed ${story.seed} must be an integer in [0, 2^64)`
      : storyProblem(stored, prompt, seqLen);
  if (why !== undefined) {
    throw new TinypipeError('INVALID_ARGUMENT', `story defaults for the image: ${why}.`, {
      details: { story: { ...story, seed: String(story.seed) } },
    });
  }
  const out = new Uint8Array(STORY_RECORD_BYTES + prompt.length);
  const dv = new DataView(out.buffer);
  dv.setFloat32(0, stored.temperature, true);
  dv.setFloat32(4, stored.topp, true);
  dv.setBigUint64(8, seed, true);
  dv.setUint32(16, story.steps, true);
  dv.setUint16(20, story.parallel, true);
  dv.setUint16(22, prompt.length, true);
  out.set(prompt, STORY_RECORD_BYTES);
  return out;
}

/**
 * The story defaults of a validated image, checked as the firmware's tp_image_story checks them: undefined
 * without the story flag. Throws `IMAGE_BAD_TABLE` when the record breaks a rule (§4c).
 */
export function readStorySection(
  bytes: Uint8Array,
  header: ImageHeader,
  tensors: readonly ImageTensorEntry[],
): StoryDefaults | undefined {
  if (!header.story) return undefined;
  const t = tensors[tensors.length - 1] as ImageTensorEntry; // story.defaults: the last entry
  const rec = bytes.subarray(t.offset, t.offset + t.byteLength);
  const dv = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const promptBytes = dv.getUint16(22, true);
  const prompt = rec.subarray(STORY_RECORD_BYTES);
  const s = {
    temperature: dv.getFloat32(0, true),
    topp: dv.getFloat32(4, true),
    seed: dv.getBigUint64(8, true),
    steps: dv.getUint32(16, true),
    parallel: dv.getUint16(20, true),
  };
  const why =
    promptBytes !== prompt.length
      ? `prompt_bytes ${promptBytes} but story_bytes leaves ${prompt.length}`
      : storyProblem(s, prompt, header.config.seqLen);
  if (why !== undefined) {
    throw new TinypipeError(
      'IMAGE_BAD_TABLE',
      `weight image story defaults (story.defaults): ${why}. Rebuild the image with valid settings.`,
      { details: { tensor: 'story.defaults' } },
    );
  }
  return { ...s, prompt: new TextDecoder('utf-8', { fatal: true }).decode(prompt) };
}
