/**
 * Image format version 3: `kv_format` u32 at 0x80 (docs/image-format.md §3, docs/numerics.md §6b) —
 * written by buildImage, read into the header and the stage, refused when out of range, absent (fp32)
 * from versions 1 and 2, recorded by images without layers, compared by checkImageMatches, and run by
 * the stage an image gives.
 */
import { KV_FORMATS } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { bits, stories260K } from '../kernels/kernels.test-helper.js';
import { QuantEngine } from '../quant/engine.js';
import { quantize } from '../quant/quantize.js';
import { caught, reseal, setU32, u32 } from './image.test-helper.js';
import { checkImageMatches } from './match.js';
import { readImage, verifyImage } from './read.js';
import { buildImage, serializeStage } from './serialize.js';
import { TINY, testModel } from './test-model.js';
import type { StageSelection } from './types.js';

const qm = testModel(TINY, 5);
const SEL: StageSelection = { layers: [1, 3], embedding: false, classifier: true };

/** `img` rewritten as version `v` (1 or 2): the fields it lacks back to zero, CRC recomputed. */
function asVersion(img: Uint8Array, v: 1 | 2): Uint8Array {
  const out = img.slice();
  setU32(out, 4, v);
  out.fill(0, v === 1 ? 0x78 : 0x80, 0x84);
  return reseal(out);
}

describe('image version 3: kv_format', () => {
  it('buildImage writes version 3 and the format number at 0x80; only it and the CRC differ between formats', () => {
    const images = KV_FORMATS.map((kv) => buildImage(qm, SEL, { kv }));
    images.forEach((img, code) => {
      expect([u32(img, 4), u32(img, 0x80)]).toEqual([3, code]);
      expect(img.subarray(0x84, 0x100).every((b) => b === 0)).toBe(true);
      const r = readImage(img);
      expect([r.header.kv, r.stage.kv]).toEqual([KV_FORMATS[code], KV_FORMATS[code]]);
      expect(verifyImage(img).checks.find((c) => c.check === 'header')?.message).toContain(
        `KV cache ${KV_FORMATS[code]}`,
      );
      // build → read → serialize keeps it
      expect(serializeStage(r.stage)).toEqual(img);
      const diff = [...img.keys()].filter((i) => img[i] !== images[0]![i]);
      expect(diff.every((i) => (i >= 0x80 && i < 0x84) || (i >= 0x0c && i < 0x10))).toBe(true);
    });
    expect(u32(buildImage(qm, SEL), 0x80)).toBe(0); // default fp32
  });

  it('refuses kv_format 3 and beyond as IMAGE_BAD_HEADER naming the field, in readImage and verifyImage', () => {
    for (const value of [3, 0x100, 0xffffffff]) {
      const img = buildImage(qm, SEL, { kv: 'int8' }).slice();
      setU32(img, 0x80, value);
      reseal(img);
      const e = caught(() => readImage(img));
      expect(e.code).toBe('IMAGE_BAD_HEADER');
      expect(e.details).toMatchObject({ field: 'kv_format', actual: value });
      const header = verifyImage(img).checks.find((c) => c.check === 'header');
      expect([header?.ok, header?.code]).toEqual([false, 'IMAGE_BAD_HEADER']);
    }
  });

  it('reads versions 1 and 2 as fp32, and refuses a non-zero byte where kv_format would be', () => {
    const v3 = buildImage(qm, SEL, { kv: 'fp16', buildId: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) });
    for (const v of [1, 2] as const) {
      const old = asVersion(v3, v);
      const r = readImage(old);
      expect([r.header.version, r.header.kv, r.stage.kv]).toEqual([v, 'fp32', 'fp32']);
      const bad = old.slice();
      bad[0x80] = 1; // fp16 in version 3, a reserved byte in versions 1 and 2
      reseal(bad);
      expect(caught(() => readImage(bad)).details).toMatchObject({ field: 'reserved', offset: 0x80 });
    }
  });

  it('is recorded by images that hold no layers (embedding only, classifier slice only)', () => {
    for (const sel of [
      { layers: [0, 0], embedding: true, classifier: false },
      { layers: [3, 3], embedding: false, classifier: [4, 9] },
    ] as StageSelection[]) {
      const r = readImage(buildImage(qm, sel, { kv: 'int8' }));
      expect([r.header.layerRange[1] - r.header.layerRange[0], r.header.kv]).toEqual([0, 'int8']);
    }
  });

  it('checkImageMatches compares it (IMAGE_MISMATCH naming both formats)', () => {
    const h = readImage(buildImage(qm, SEL, { kv: 'fp16' })).header;
    expect(() => checkImageMatches(h, { kv: 'fp16', layerRange: [1, 3] })).not.toThrow();
    const e = caught(() => checkImageMatches(h, { kv: 'int8' }));
    expect(e.code).toBe('IMAGE_MISMATCH');
    expect(e.message).toContain('KV cache format is fp16, expected int8');
  });

  it('serializeStage refuses options.kv other than the stage its own format', () => {
    const stage = readImage(buildImage(qm, SEL, { kv: 'int8' })).stage;
    expect(caught(() => serializeStage(stage, { kv: 'fp16' })).code).toBe('INVALID_ARGUMENT');
    expect(caught(() => buildImage(qm, SEL, { kv: 'q4' as never })).code).toBe('INVALID_ARGUMENT');
  });

  it('the stages read from int8 images compute what QuantEngine with kv int8 computes, bit for bit', () => {
    const q = quantize(stories260K(), { weights: 'q8', groupSize: 32 });
    const stages = (
      [
        { layers: [0, 2], embedding: true, classifier: false },
        { layers: [2, 5], embedding: false, classifier: true },
      ] as StageSelection[]
    ).map((s) => readImage(buildImage(q, s, { kv: 'int8' })).stage);
    const fromImages = new QuantEngine(stages, { kernels: 'js' });
    const direct = QuantEngine.fromModel(q, { kernels: 'js', kv: 'int8' });
    const fp32 = QuantEngine.fromModel(q, { kernels: 'js' });
    expect(fromImages.kv).toBe('int8');
    let differs = 0;
    for (let pos = 0; pos < 24; pos++) {
      const t = (pos * 37 + 1) % q.config.vocabSize;
      const a = Float32Array.from(direct.forward(t, pos));
      expect(bits(fromImages.forward(t, pos)).equals(bits(a)), `pos ${pos}`).toBe(true);
      if (!bits(fp32.forward(t, pos)).equals(bits(a))) differs++;
    }
    expect(differs).toBeGreaterThan(12);
    expect(caught(() => new QuantEngine(stages, { kv: 'fp32' })).code).toBe('INVALID_ARGUMENT');
  });
});
