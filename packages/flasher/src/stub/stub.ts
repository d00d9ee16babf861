/**
 * A flasher stub image in esptool's published stub JSON format (esptool targets/stub_flasher/*.json,
 * esptool-js lib/targets/stub_flasher/*.json): `entry`, base64 `text` loaded at `text_start`, optional
 * base64 `data` at `data_start`, optional `bss_start`; other keys (plugins) are ignored. We never ship
 * one: the user points to a file or has esptool-js installed (`@tinypipe/flasher/node` `loadStub`).
 */
import { TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';

const u32 = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const base64 = v.pipe(v.string(), v.nonEmpty(), v.base64());

export const StubJsonSchema = v.pipe(
  v.looseObject({
    entry: v.pipe(u32, v.minValue(1, 'entry 0 would leave the stub loaded but not running')),
    text: base64,
    text_start: u32,
    data: v.optional(base64),
    data_start: v.optional(u32),
    bss_start: v.optional(u32),
  }),
  v.check(
    (s) => (s.data === undefined) === (s.data_start === undefined),
    'data and data_start come together (one is missing)',
  ),
);

export type StubJson = v.InferOutput<typeof StubJsonSchema>;

export interface StubSegment {
  /** RAM address (MEM_BEGIN's offset). */
  address: number;
  bytes: Uint8Array;
}

/** What the loader uploads: the segments in esptool's order (text, then data) and where to start. */
export interface StubImage {
  entry: number;
  segments: StubSegment[];
  /** Where it came from, for messages. */
  source: string;
}

function fromBase64(text: string): Uint8Array {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Checks `json` against the stub format; STUB_INVALID (naming each bad field) when it is not one. */
export function parseStub(json: unknown, source = 'the stub'): StubImage {
  const r = v.safeParse(StubJsonSchema, json);
  if (!r.success) {
    const issues = r.issues.map((i) => `${v.getDotPath(i) ?? '(root)'}: ${i.message}`);
    throw new TinypipeError(
      'STUB_INVALID',
      `${source} is not a flasher stub in esptool's JSON format (entry, text, text_start, data, data_start; base64): ${issues.join('; ')} — point to a stub JSON from esptool or esptool-js (e.g. lib/targets/stub_flasher/esp32s3.json), or flash without a stub`,
      { details: { source, issues } },
    );
  }
  const s = r.output;
  const segments: StubSegment[] = [{ address: s.text_start, bytes: fromBase64(s.text) }];
  if (s.data !== undefined && s.data_start !== undefined)
    segments.push({ address: s.data_start, bytes: fromBase64(s.data) });
  return { entry: s.entry, segments, source };
}
