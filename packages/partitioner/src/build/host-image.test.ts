/** `buildPlan` for a plan that keeps the embedding on the host: host.tpimg beside board 0's image (issue 20). */
import { createHash } from 'node:crypto';
import { buildImage, quantize, readImage, stampBuildId, unstampBuildId } from '@tinypipe/core';
import { tinyCheckpoint } from '@tinypipe/core/testing';
import { describe, expect, it } from 'vitest';
import { planModel } from '../plan/plan.js';
import { builtinProfile } from '../profiles/profiles.js';
import { buildPlan, HOST_IMAGE_FILE, recomputeBuildId } from './build.js';

const checkpoint = tinyCheckpoint(3);
const qm = quantize(checkpoint, { weights: 'q8' });
const request = {
  model: { name: 'tiny', source: 'test', config: checkpoint.config, kind: 'q8' as const, groupSize: 32 },
  boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n8r8')],
};
const host = planModel({ ...request, embedding: 'host', kv: 'int8' });
const board = planModel({ ...request, embedding: 'board' });
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('buildPlan with the embedding on the host', () => {
  it('writes host.tpimg (the embedding alone, stamped) in board 0’s folder, named by its manifest’s host', () => {
    expect(host.embedding).toBe('host');
    const builds = buildPlan(host, qm);
    const file = builds[0]!.files.find((f) => f.name === HOST_IMAGE_FILE)!;
    expect(file.offset).toBeUndefined(); // not flashed
    expect(file.partition).toBeUndefined();
    const h = readImage(file.bytes).header;
    expect(h).toMatchObject({ embedding: true, layerRange: [0, 0] });
    expect(h.vocab).toBeUndefined();
    expect(hex(h.buildId)).toBe(builds[0]!.manifest.build);
    expect(hex(unstampBuildId(file.bytes))).toBe(
      hex(buildImage(qm, { layers: [0, 0], embedding: true, classifier: false }, { kv: 'int8' })),
    );
    expect(builds[0]!.manifest.host).toEqual({
      path: 'host.tpimg',
      sha256: sha(file.bytes),
      bytes: file.bytes.length,
    });
    // listed with the board's files too (what the build id covers), and only on board 0
    expect(builds[0]!.manifest.files.find((f) => f.name === HOST_IMAGE_FILE)?.sha256).toBe(sha(file.bytes));
    expect(builds[1]!.manifest.host).toBeUndefined();
    expect(builds[1]!.files.some((f) => f.name === HOST_IMAGE_FILE)).toBe(false);
    // no board image holds the embedding
    for (const b of builds) {
      const model = b.files.find((f) => f.name === 'model.img')!;
      expect(readImage(model.bytes).header.embedding).toBe(false);
    }
  });

  it('the build id covers the host image: recomputable, and another host image gives another id', () => {
    const builds = buildPlan(host, qm);
    const id = builds[0]!.manifest.build;
    expect(recomputeBuildId(host, builds)).toBe(id);
    const other = quantize(tinyCheckpoint(4), { weights: 'q8' });
    const swapped = builds.map((b) => ({
      files: b.files.map((f) =>
        f.name === HOST_IMAGE_FILE
          ? {
              ...f,
              bytes: stampBuildId(
                buildImage(other, { layers: [0, 0], embedding: true, classifier: false }),
                new Uint8Array(8),
              ),
            }
          : f,
      ),
    }));
    expect(recomputeBuildId(host, swapped)).not.toBe(id);
  });

  it('every manifest and image records the plan’s KV format; a plan with the embedding on a board has no host image', () => {
    for (const b of buildPlan(host, qm)) {
      expect(b.manifest.kv).toBe('int8');
      // the board images and the host image alike (an image without layers records it too)
      for (const f of b.files.filter((x) => x.name.endsWith('img')))
        expect(readImage(f.bytes).header).toMatchObject({ version: 3, kv: 'int8' });
    }
    for (const kv of ['fp16', 'fp32'] as const) {
      const image = buildPlan({ ...board, kv }, qm)[0]!.files.find((f) => f.name === 'model.img')!;
      expect(readImage(image.bytes).header.kv).toBe(kv);
    }
    const builds = buildPlan(board, qm);
    for (const b of builds) {
      expect(b.manifest.kv).toBe('fp32');
      expect(b.manifest.host).toBeUndefined();
      expect(b.files.some((f) => f.name === HOST_IMAGE_FILE)).toBe(false);
    }
  });
});
