/**
 * The firmware status table of @tinypipe/protocol (FIRMWARE_STATUS) against the C sources: tp_status.h's
 * enum (names and numbers) and the strings tp_status_name returns (src/tp_status.c, or src/image.c where
 * it lived before).
 */
import { existsSync, readFileSync } from 'node:fs';
import { FIRMWARE_STATUS, firmwareErrorCode, PROTOCOL_ERROR_CODES } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';

const src = (name: string) => new URL(`../src/${name}`, import.meta.url);

/** tp_status.h's enum: name → number, in declaration order. */
function enumOfHeader(): [string, number][] {
  const header = readFileSync(src('tp_status.h'), 'utf8');
  const body = /typedef enum \{([\s\S]*?)\}\s*tp_status;/.exec(header)?.[1];
  if (!body) throw new Error('tp_status.h: no `typedef enum { … } tp_status;`');
  const withoutComments = body.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return withoutComments
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((entry) => {
      const m = /^(TP_\w+)\s*=\s*(\d+)$/.exec(entry);
      if (!m) throw new Error(`tp_status.h: enum entry without an explicit number: ${entry}`);
      return [m[1]!, Number(m[2])];
    });
}

/** tp_status_name's `case NAME: return "TEXT";` pairs. */
function namesOfSource(): Map<string, string> {
  const file = existsSync(src('tp_status.c')) ? 'tp_status.c' : 'image.c';
  const text = readFileSync(src(file), 'utf8');
  const fn = /const char \*tp_status_name\(tp_status s\)\s*\{([\s\S]*?)\n\}/.exec(text)?.[1];
  if (!fn) throw new Error(`${file}: no tp_status_name`);
  return new Map([...fn.matchAll(/case (TP_\w+):\s*return "([^"]*)";/g)].map((m) => [m[1]!, m[2]!]));
}

describe('the firmware status table (FIRMWARE_STATUS) and the C sources', () => {
  it('has every tp_status.h status, by name and number, and no other', () => {
    const header = enumOfHeader();
    expect(header.length).toBeGreaterThan(10);
    expect(FIRMWARE_STATUS.map((s) => [s.enumName, s.status])).toEqual(header);
    FIRMWARE_STATUS.forEach((s, i) => {
      expect(s.status, s.enumName).toBe(i);
    });
  });

  it('names each status as tp_status_name does', () => {
    const names = namesOfSource();
    expect(names.size).toBe(FIRMWARE_STATUS.length);
    for (const s of FIRMWARE_STATUS) expect(names.get(s.enumName), s.enumName).toBe(s.name);
  });

  it('maps a status whose C name is a protocol error code to that code, and the others to a protocol code', () => {
    for (const s of FIRMWARE_STATUS) {
      expect(Object.keys(PROTOCOL_ERROR_CODES), s.enumName).toContain(s.code);
      if (s.name in PROTOCOL_ERROR_CODES) expect(s.code, s.enumName).toBe(s.name);
      expect(firmwareErrorCode(s.status)).toBe(s.code);
    }
    expect(firmwareErrorCode(FIRMWARE_STATUS.length)).toBe('REMOTE_ERROR');
  });
});
