import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { firmwareRoot } from './build.js';

describe('ESP-IDF port (what can be checked without ESP-IDF)', () => {
  it('the app glue compiles against the IDF stubs and the core compiles for Xtensa with -Werror', () => {
    const out = execFileSync(join(firmwareRoot(), 'ports', 'esp-idf', 'check.sh'), { encoding: 'utf8' });
    expect(out).toContain('esp-idf glue: compiles against the stubs');
    expect(out).toMatch(/xtensa smoke build: 12 objects/);
  });
});
