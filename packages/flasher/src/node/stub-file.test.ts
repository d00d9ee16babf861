import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { esptoolJsStubPath, loadStub } from './stub-file.js';

const esptoolJsStub = createRequire(import.meta.url).resolve(
  'esptool-js/lib/targets/stub_flasher/esp32s3.json',
);
const published = JSON.parse(readFileSync(esptoolJsStub, 'utf8')) as Record<string, unknown>;
const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-stub-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('loadStub', () => {
  it('from a file the user points to', async () => {
    const path = join(tmp, 'stub.json');
    writeFileSync(path, JSON.stringify(published));
    const s = await loadStub(path);
    expect(s.source).toBe(path);
    expect(s.entry).toBe(published.entry);
  });

  it('from esptool-js when it is installed', async () => {
    expect(esptoolJsStubPath()).toBe(esptoolJsStub);
    expect((await loadStub('esptool-js')).source).toBe(esptoolJsStub);
    expect(esptoolJsStubPath('no-such-chip')).toBeUndefined();
    await expect(loadStub('esptool-js', { chip: 'no-such-chip' })).rejects.toMatchObject({
      code: 'FILE_NOT_FOUND',
      message: expect.stringMatching(/npm install esptool-js/),
    });
  });

  it('a missing file, a file that is not JSON', async () => {
    await expect(loadStub(join(tmp, 'missing.json'))).rejects.toMatchObject({ code: 'FILE_NOT_FOUND' });
    const path = join(tmp, 'broken.json');
    writeFileSync(path, '{"entry": 1,');
    await expect(loadStub(path)).rejects.toMatchObject({ code: 'STUB_INVALID' });
  });
});
