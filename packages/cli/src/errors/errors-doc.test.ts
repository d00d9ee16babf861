import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_TABLES, errorTableMarkdown } from './error-table.js';

const doc = readFileSync(new URL('../../../../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it("lists every package's error codes, each once, as the packages' tables say", () => {
    const start = doc.indexOf('<!-- error-table:start -->');
    const end = doc.indexOf('<!-- error-table:end -->');
    expect(start, 'the table markers').toBeGreaterThanOrEqual(0);
    // rows as cells (a formatter may pad the columns)
    const rows = (md: string) =>
      md
        .split('\n')
        .filter((l) => l.startsWith('|') && !/^\|[\s|-]+\|$/.test(l))
        .map((l) =>
          l
            .slice(1, -1)
            .split(/(?<!\\)\|/)
            .map((c) => c.trim()),
        );
    expect(rows(doc.slice(start, end))).toEqual(rows(errorTableMarkdown()));
  });

  it('no code is owned by two packages', () => {
    const owners = new Map<string, string[]>();
    for (const [pkg, codes] of ERROR_TABLES)
      for (const code of Object.keys(codes)) owners.set(code, [...(owners.get(code) ?? []), pkg]);
    expect([...owners].filter(([, pkgs]) => pkgs.length > 1)).toEqual([]);
    expect(owners.size).toBeGreaterThan(60);
  });
});
