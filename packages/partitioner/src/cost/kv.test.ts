import { MODEL_SHAPES } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { BUILTIN_PROFILES } from '../profiles/profiles.js';
import { footprint, kvBytesPerToken, layerWork } from './cost.js';
import { KV_FORMATS, kvBytesPerPosition } from './kv.js';

const n16r8 = BUILTIN_PROFILES['esp32s3-n16r8']!;
const m42 = { config: MODEL_SHAPES['42M'], kind: 'q4' as const, groupSize: 32 };

describe('KV bytes per layer per position, by format (docs/numerics.md §6b)', () => {
  it('stories42M (kv_dim 512, 8 kv heads): fp32 8·512, fp16 4·512, int8 2·(512 + 4·8)', () => {
    expect(MODEL_SHAPES['42M']).toMatchObject({ dim: 512, nHeads: 8, nKvHeads: 8 });
    expect(kvBytesPerPosition(m42.config, 'fp32')).toBe(4096);
    expect(kvBytesPerPosition(m42.config, 'fp16')).toBe(2048);
    expect(kvBytesPerPosition(m42.config, 'int8')).toBe(1088);
    expect(kvBytesPerPosition(m42.config)).toBe(4096); // the default: fp32
  });

  it('grouped-query attention counts the kv heads, not the heads (stories260K: kv_dim 32, 4 kv heads)', () => {
    const c = MODEL_SHAPES['260K'];
    expect(c).toMatchObject({ dim: 64, nHeads: 8, nKvHeads: 4 });
    expect(kvBytesPerPosition(c, 'fp32')).toBe(8 * 32);
    expect(kvBytesPerPosition(c, 'fp16')).toBe(4 * 32);
    expect(kvBytesPerPosition(c, 'int8')).toBe(2 * (32 + 16));
    expect([...KV_FORMATS]).toEqual(['fp32', 'fp16', 'int8']);
  });

  it('sizes the KV caches in PSRAM: per stream, layer and position, the format’s bytes', () => {
    const c = { ...m42.config, seqLen: 1024 };
    const stage = { layers: [0, 4] as const, embedding: false, vocab: undefined };
    const psram = (kv: 'fp32' | 'fp16' | 'int8', streams = 1) =>
      footprint({ ...m42, config: c }, stage, n16r8, { kv, streams }).psramNeeded;
    // the run buffers are the same in every format: the differences are the caches alone
    expect(psram('fp32') - psram('int8')).toBe(4 * 1024 * (4096 - 1088));
    expect(psram('fp16') - psram('int8')).toBe(4 * 1024 * (2048 - 1088));
    expect(psram('int8', 2) - psram('int8')).toBe(4 * 1024 * 1088);
    // 4 layers of fp32 at 1024 do not fit one N16R8's PSRAM; int8 does
    expect(footprint({ ...m42, config: c }, stage, n16r8, { kv: 'fp32' }).fits).toBe(false);
    expect(footprint({ ...m42, config: c }, stage, n16r8, { kv: 'int8' }).problems).toEqual([]);
  });

  it('reads and writes the format’s bytes on the memory bus: (context / 2 + 1) positions per layer', () => {
    for (const kv of KV_FORMATS) {
      expect(kvBytesPerToken(m42, 3, 256, kv)).toBe(3 * kvBytesPerPosition(m42.config, kv) * 129);
      // at the model's own context (seq_len 1024): the average position 512
      expect(layerWork(m42, 3, false, kv).kvBytes).toBe(3 * kvBytesPerPosition(m42.config, kv) * 513);
    }
    // the weights and the MACs do not change with the format
    expect(layerWork(m42, 3, false, 'int8').bytes).toBe(layerWork(m42, 3, false).bytes);
    expect(layerWork(m42, 3, false, 'int8').macs).toBe(layerWork(m42, 3, false).macs);
  });
});
