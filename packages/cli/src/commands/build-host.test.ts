/** `tinypipe build` of a plan with the embedding on the host and a KV format (issue 20). */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readImage } from '@tinypipe/core';
import { readBuild } from '@tinypipe/flasher/node';
import { afterAll, describe, expect, it } from 'vitest';
import { runCapture } from '../io/capture.test-helper.js';

const tmp = mkdtempSync(join(tmpdir(), 'tinypipe-build-host-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const two = ['--boards', 'esp32s3-n16r8,esp32s3-n16r8'];

describe('tinypipe build --plan (embedding on the host)', () => {
  it('writes host.tpimg in board-0, named by its manifest’s host; the flasher reads the build without it', async () => {
    const planFile = join(tmp, 'host-plan.json');
    const p = await runCapture(['plan', ...two, '--embedding', 'host', '--kv', 'int8', '--out', planFile]);
    expect(p.code).toBe(0);
    const out = join(tmp, 'host-build');
    const r = await runCapture(['build', '--plan', planFile, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^host: the embedding, .*board-0\/host\.tpimg \(\d+ B, not flashed\)/m);
    const manifest = JSON.parse(readFileSync(join(out, 'board-0', 'manifest.json'), 'utf8'));
    const bytes = new Uint8Array(readFileSync(join(out, 'board-0', 'host.tpimg')));
    expect(manifest.host).toEqual({
      path: 'host.tpimg',
      sha256: createHash('sha256').update(bytes).digest('hex'),
      bytes: bytes.length,
    });
    expect(manifest.kv).toBe('int8');
    const header = readImage(bytes).header;
    expect(header).toMatchObject({ embedding: true, layerRange: [0, 0], kv: 'int8' });
    for (const b of ['board-0', 'board-1'])
      expect(readImage(new Uint8Array(readFileSync(join(out, b, 'model.img')))).header.kv).toBe('int8');
    expect(hex(header.buildId)).toBe(manifest.build);
    const other = JSON.parse(readFileSync(join(out, 'board-1', 'manifest.json'), 'utf8'));
    expect(other.host).toBeUndefined();
    expect(other.build).toBe(manifest.build);
    // the flasher writes what has an offset: the partition table and the model image, not host.tpimg
    const boards = await readBuild(out);
    expect(boards[0]!.regions.map((x) => x.name)).toEqual(['partition-table.bin', 'model.img']);
  });

  it('a plan whose embedding field and boards disagree → PLAN_INVALID before anything is built', async () => {
    const planFile = join(tmp, 'board-plan.json');
    expect((await runCapture(['plan', ...two, '--out', planFile])).code).toBe(0);
    const json = JSON.parse(readFileSync(planFile, 'utf8'));
    expect(json).toMatchObject({ kv: 'fp32', embedding: 'board' });
    writeFileSync(planFile, JSON.stringify({ ...json, embedding: 'host' }));
    const r = await runCapture(['build', '--plan', planFile, '--out', join(tmp, 'bad')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/PLAN_INVALID: .*embedding "host" means no board holds it, but board 0/);
  });
});
