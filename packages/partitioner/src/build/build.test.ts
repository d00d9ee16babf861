import { createHash } from 'node:crypto';
import { buildImage, quantize, readImage, stampBuildId, unstampBuildId, verifyImage } from '@tinypipe/core';
import { tinyCheckpoint } from '@tinypipe/core/testing';
import { errorCodeOf } from '@tinypipe/protocol/testing';
import { describe, expect, it } from 'vitest';
import { planModel } from '../plan/plan.js';
import { builtinProfile } from '../profiles/profiles.js';
import { buildId, buildPlan, recomputeBuildId } from './build.js';

const checkpoint = tinyCheckpoint(3);
const qm = quantize(checkpoint, { weights: 'q8' });
const plan = planModel({
  model: { name: 'tiny', source: 'test', config: checkpoint.config, kind: 'q8', groupSize: 32 },
  boards: [builtinProfile('esp32s3-n16r8'), builtinProfile('esp32s3-n8r8')],
  objective: 'throughput',
});

describe('buildPlan', () => {
  it('gives each board a verified image of its share, its partition table and a manifest of hashes', () => {
    const builds = buildPlan(plan, qm);
    expect(builds.map((b) => b.dir)).toEqual(['board-0', 'board-1']);
    for (const [i, b] of builds.entries()) {
      const image = b.files.find((f) => f.name === 'model.img')!;
      const header = readImage(image.bytes).header;
      expect(header.layerRange).toEqual(plan.boards[i]!.layers);
      expect(header.embedding).toBe(plan.boards[i]!.embedding);
      expect(verifyImage(image.bytes).ok).toBe(true);
      expect(image.offset).toBe(0x1f0000);
      expect(b.files.find((f) => f.name === 'partition-table.bin')!.offset).toBe(0x8000);
      for (const f of b.files) {
        const entry = b.manifest.files.find((m) => m.name === f.name)!;
        expect(entry.sha256).toBe(createHash('sha256').update(f.bytes).digest('hex'));
        expect(entry.bytes).toBe(f.bytes.length);
      }
      expect(b.manifest).toMatchObject({ board: i, chip: 'esp32s3', layers: plan.boards[i]!.layers });
    }
  });

  it('stamps one build id on every board: shared within a build, different for q4 and q8 of one model', () => {
    const q8 = buildPlan(plan, qm);
    const q4plan = { ...plan, model: { ...plan.model, kind: 'q4' as const } };
    const q4 = buildPlan(q4plan, quantize(checkpoint, { weights: 'q4' }));
    expect(new Set(q8.map((b) => b.manifest.build)).size).toBe(1);
    expect(q8[0]!.manifest.build).toMatch(/^[0-9a-f]{16}$/);
    expect(q4[0]!.manifest.build).not.toBe(q8[0]!.manifest.build);
    expect(q4[0]!.manifest.fingerprint).not.toBe(q8[0]!.manifest.fingerprint); // the quantized model's
    expect([q4[0]!.manifest.quant, q8[0]!.manifest.quant]).toEqual(['q4', 'q8']);
    expect(buildPlan(plan, qm)[1]!.manifest.build).toBe(q8[1]!.manifest.build);
    expect(q8[0]!.manifest.files.find((f) => f.name === 'model.img')!.partition).toBe('model');
  });

  it('writes the build id into every image header; the id is recomputable from the files', () => {
    const builds = buildPlan(plan, qm);
    const id = builds[0]!.manifest.build;
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    for (const [i, b] of builds.entries()) {
      const image = b.files.find((f) => f.name === 'model.img')!.bytes;
      const header = readImage(image).header;
      expect(header.version).toBe(3);
      expect(hex(header.buildId)).toBe(id);
      // the image is buildImage's, stamped: zeroing the id gives back the bytes buildImage writes
      const sel = plan.boards[i]!;
      const plain = buildImage(
        qm,
        {
          layers: sel.layers,
          embedding: sel.embedding,
          classifier: sel.vocab ? [sel.vocab[0], sel.vocab[1]] : false,
        },
        { kv: plan.kv },
      );
      expect(hex(unstampBuildId(image))).toBe(hex(plain));
    }
    // by hand, as docs/image-format.md §8 says: SHA-256 of the plan JSON and of every file with the
    // image's build id zeroed, joined by "\n", first 16 hex digits
    const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    const parts = [
      JSON.stringify(plan),
      ...builds.flatMap((b) =>
        b.files.map((f) => sha(f.name === 'model.img' ? unstampBuildId(f.bytes) : f.bytes)),
      ),
    ];
    expect(sha(new TextEncoder().encode(parts.join('\n'))).slice(0, 16)).toBe(id);
    expect(recomputeBuildId(plan, builds)).toBe(id);
    expect(
      buildId(
        plan,
        builds.map((b) => b.manifest),
      ),
    ).not.toBe(id); // manifests hash the stamped images
    // a changed byte, or an image stamped with another id, no longer recomputes to the manifest's id
    const tampered = builds.map((b) => ({
      files: b.files.map((f) =>
        f.name === 'model.img' && b.manifest.board === 1
          ? { ...f, bytes: stampBuildId(f.bytes, new Uint8Array(8).fill(7)) }
          : f,
      ),
    }));
    expect(recomputeBuildId(plan, tampered)).toBe(id); // the id field itself is not part of the hash ...
    const other = builds.map((b) => ({
      files: b.files.map((f) =>
        f.name === 'partitions.csv' ? { ...f, bytes: new TextEncoder().encode('x') } : f,
      ),
    }));
    expect(recomputeBuildId(plan, other)).not.toBe(id); // ... every other byte is
    // another plan (another profile name) of the same model and split: another id
    const renamed = {
      ...plan,
      boards: plan.boards.map((b) => ({ ...b, profile: { ...b.profile, name: `${b.profile.name}-bench` } })),
    };
    const again = buildPlan(renamed, qm);
    expect(again[0]!.manifest.build).not.toBe(id);
  });

  it('refuses a model that is not the plan’s', async () => {
    expect(await errorCodeOf(() => buildPlan(plan, quantize(checkpoint, { weights: 'q4' })))).toBe(
      'PLAN_INVALID',
    );
  });
});
