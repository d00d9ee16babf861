import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { parseStub } from './stub.js';

/** esptool-js's published ESP32-S3 stub (a devDependency here; an optional peer for users). */
const esptoolJsStub = createRequire(import.meta.url).resolve(
  'esptool-js/lib/targets/stub_flasher/esp32s3.json',
);
const published = JSON.parse(readFileSync(esptoolJsStub, 'utf8')) as Record<string, unknown>;

const invalid = (json: unknown) => {
  try {
    parseStub(json, 'stub.json');
  } catch (e) {
    if (TinypipeError.hasCode(e, 'STUB_INVALID')) return e.message;
    throw e;
  }
  throw new Error('accepted');
};

describe("stub images in esptool's JSON format", () => {
  it("reads esptool-js's ESP32-S3 stub: text then data, at their addresses, and the entry", () => {
    const s = parseStub(published, 'esp32s3.json');
    expect(s.entry).toBe(published.entry);
    expect(s.segments.map((x) => x.address)).toEqual([published.text_start, published.data_start]);
    expect(s.segments[0]!.bytes).toEqual(new Uint8Array(Buffer.from(published.text as string, 'base64')));
    expect(s.segments[1]!.bytes.length).toBe(Buffer.from(published.data as string, 'base64').length);
  });

  it('data is optional (as in esptool), but not half of it', () => {
    const { data: _d, data_start: _s, ...textOnly } = published;
    expect(parseStub(textOnly).segments).toHaveLength(1);
    expect(invalid({ ...textOnly, data: published.data })).toMatch(/data and data_start come together/);
  });

  it('names what is wrong and what to do', () => {
    expect(invalid({ ...published, text: '%%% not base64' })).toMatch(/stub\.json .*text: Invalid Base64/);
    expect(invalid({ ...published, entry: 'main' })).toMatch(/entry: Invalid type/);
    expect(invalid({ ...published, entry: 0 })).toMatch(/entry: entry 0 would leave/);
    expect(invalid({ ...published, text_start: -4 })).toMatch(/text_start: Invalid value/);
    expect(invalid({ text: published.text })).toMatch(/entry: Invalid key.*text_start: Invalid key/);
    expect(invalid([])).toMatch(/flash without a stub/);
  });
});
