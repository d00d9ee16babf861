import { DTYPE_CODE, expectedTensors } from '@tinypipe/core';
import { crc32c } from '@tinypipe/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cVerdict, tsVerdict } from './bounds.test-helper.js';

/** The header fields of docs/image-format.md §3, by offset, as u32 (a crafted header may hold anything). */
interface Fields {
  dim: number;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  vocab: number;
  seqLen: number;
  shared: number;
  layerFrom: number;
  layerTo: number;
  flags: number;
  vocabFrom: number;
  vocabTo: number;
  bits: number;
  group: number;
}

const u32 = (v: number) => v >>> 0;

/** The header bytes outside `Fields`: the format version, `build_id` (version 2), `kv_format` (version 3) and
 * the reserved area. */
interface Extra {
  version: number;
  /** 8 bytes at 0x78 (reserved, so must be zero, in version 1). */
  build: readonly number[];
  /** u32 at 0x80 (reserved, so must be zero, in versions 1 and 2; 0–2 the KV format in version 3). */
  kv: number;
  /** One byte of the header's tail set: [offset in 0x78..0xFF, value]. */
  poke?: readonly [number, number] | undefined;
}
const CURRENT: Extra = { version: 3, build: [0, 0, 0, 0, 0, 0, 0, 0], kv: 0 };

/**
 * An image with these header fields: the table is what the TS layout implies (byte lengths and offsets cut to
 * u32 as a crafted file would hold them), the header CRC right, tensor data present (zeros, CRCs right) when
 * the whole image is under 1 MB, else only header and table.
 */
function craft(f: Fields, countDelta = 0, extra: Extra = CURRENT): Uint8Array {
  let specs: { name: string; dtype: number; shape: readonly number[]; byteLength: number }[] = [];
  // a huge layer span is refused before the table: list nothing (16 entries a layer would not fit memory)
  if (u32(f.layerTo) - u32(f.layerFrom) <= 4 || f.layerTo < f.layerFrom)
    try {
      specs = expectedTensors({
        config: {
          dim: f.dim,
          hiddenDim: f.hidden,
          nLayers: f.layers,
          nHeads: f.heads,
          nKvHeads: f.kvHeads,
          vocabSize: f.vocab,
          seqLen: f.seqLen,
          sharedClassifier: f.shared === 1,
        },
        kind: f.bits === 4 ? 'q4' : 'q8',
        groupSize: f.group,
        layerRange: [f.layerFrom, f.layerTo],
        embedding: (f.flags & 1) !== 0,
        vocab: f.flags & 2 ? [f.vocabFrom, f.vocabTo] : undefined,
      }).map((s) => ({
        name: s.name,
        dtype: DTYPE_CODE[s.dtype],
        shape: s.shape,
        byteLength: s.byteLength,
      }));
    } catch {
      specs = [];
    }
  if (specs.length > 64) specs = specs.slice(0, 64);
  const count = u32(specs.length + countDelta);
  const tableEnd = 256 + 64 * specs.length;
  let at = Math.ceil((tableEnd + 1) / 16) * 16; // image_size must exceed the table's end
  const offsets = specs.map((s) => {
    const o = at;
    at = Math.ceil((at + (Number.isFinite(s.byteLength) ? s.byteLength : 0)) / 16) * 16;
    return o;
  });
  const last = specs.length ? (offsets.at(-1) as number) + (specs.at(-1)?.byteLength ?? 0) : at;
  const imageSize = Number.isFinite(last) ? last : 0;
  const withData = imageSize < 1 << 20;
  const bytes = new Uint8Array(withData ? Math.max(imageSize, tableEnd) : tableEnd);
  const dv = new DataView(bytes.buffer);
  const put = (o: number, v: number) => dv.setUint32(o, u32(v), true);
  put(0, 0x4d495054);
  put(4, extra.version);
  put(8, 256);
  bytes.set(extra.build, 0x78);
  put(0x80, extra.kv);
  if (extra.poke) bytes[extra.poke[0]] = extra.poke[1];
  for (let i = 0; i < 32; i++) bytes[0x10 + i] = i;
  const values = [
    f.dim,
    f.hidden,
    f.layers,
    f.heads,
    f.kvHeads,
    f.vocab,
    f.seqLen,
    f.shared,
    f.layerFrom,
    f.layerTo,
  ];
  for (const [i, v] of values.entries()) put(0x30 + 4 * i, v);
  put(0x58, f.flags);
  put(0x5c, f.vocabFrom);
  put(0x60, f.vocabTo);
  put(0x64, f.bits);
  put(0x68, f.group);
  put(0x6c, count);
  put(0x70, 256);
  put(0x74, imageSize % 2 ** 32);
  specs.forEach((s, k) => {
    const e = 256 + 64 * k;
    for (let i = 0; i < s.name.length && i < 31; i++) bytes[e + i] = s.name.charCodeAt(i);
    dv.setUint16(e + 0x20, s.dtype ?? 0, true);
    dv.setUint16(e + 0x22, s.shape.length, true);
    for (const [i, d] of s.shape.entries()) put(e + 0x24 + 4 * i, d % 2 ** 32);
    put(e + 0x30, (offsets[k] as number) % 2 ** 32);
    put(e + 0x34, Number.isFinite(s.byteLength) ? s.byteLength % 2 ** 32 : 0);
    const o = offsets[k] as number;
    if (withData) put(e + 0x38, crc32c(bytes.subarray(o, o + s.byteLength)));
  });
  const head = crc32c(bytes.subarray(0, 0x0c));
  put(0x0c, crc32c(bytes.subarray(0x10, tableEnd), head));
  return bytes;
}

const special = fc.constantFrom(
  0,
  1,
  2,
  3,
  4,
  8,
  16,
  64,
  512,
  1024,
  1025,
  2048,
  2 ** 23,
  2 ** 31 - 1,
  2 ** 31,
  2 ** 32 - 1,
);
const small = fc.integer({ min: 1, max: 8 });
/** A small valid-looking config with some fields replaced by huge, zero or "negative" (≥ 2^31) values. */
const fieldsArb: fc.Arbitrary<Fields> = fc
  .record({
    headSize: fc.constantFrom(2, 4, 8),
    heads: fc.constantFrom(1, 2, 4),
    kvDiv: fc.constantFrom(1, 2),
    hidden: fc.constantFrom(4, 8, 16, 12),
    layers: small,
    vocab: fc.integer({ min: 1, max: 40 }),
    seqLen: fc.integer({ min: 1, max: 8 }),
    shared: fc.constantFrom(0, 1),
    flags: fc.constantFrom(0, 1, 2, 3),
    bits: fc.constantFrom(4, 8),
    group: fc.constantFrom(1, 2, 4, 8, 32),
    from: fc.nat(3),
    span: fc.nat(3),
    v0: fc.nat(4),
    vspan: fc.integer({ min: 1, max: 8 }),
  })
  .map((r) => {
    const kv = Math.max(1, r.heads / r.kvDiv);
    const layerFrom = Math.min(r.from, r.layers);
    const vocabFrom = Math.min(r.v0, r.vocab - 1);
    return {
      dim: r.headSize * r.heads,
      hidden: r.hidden,
      layers: r.layers,
      heads: r.heads,
      kvHeads: kv,
      vocab: r.vocab,
      seqLen: r.seqLen,
      shared: r.shared,
      layerFrom,
      layerTo: Math.min(layerFrom + r.span, r.layers),
      flags: r.flags,
      vocabFrom: r.flags & 2 ? vocabFrom : 0,
      vocabTo: r.flags & 2 ? Math.min(vocabFrom + r.vspan, r.vocab) : 0,
      bits: r.bits,
      group: r.group,
    };
  })
  .chain((base) =>
    fc
      .array(fc.tuple(fc.constantFrom(...(Object.keys(base) as (keyof Fields)[])), special), { maxLength: 3 })
      .map((overrides) => {
        const f: Fields = { ...base };
        for (const [k, v] of overrides) f[k] = v;
        return f;
      }),
  );

/** Versions 1, 2 and 3 (mostly), others now and then; a zero or any build id; a KV format (zero mostly, sometimes
 * one past the last or huge); sometimes one byte of the tail set. */
const extraArb: fc.Arbitrary<Extra> = fc.record({
  version: fc.constantFrom(3, 3, 3, 2, 2, 1, 1, 0, 4, 2 ** 32 - 1),
  build: fc.oneof(
    fc.constant([0, 0, 0, 0, 0, 0, 0, 0]),
    fc.array(fc.nat(255), { minLength: 8, maxLength: 8 }),
  ),
  kv: fc.constantFrom(0, 0, 0, 0, 0, 1, 2, 3, 256, 2 ** 32 - 1),
  poke: fc.option(fc.tuple(fc.integer({ min: 0x78, max: 0xff }), fc.integer({ min: 1, max: 255 })), {
    freq: 4,
    nil: undefined,
  }),
});

describe('crafted headers: the TS and C verifiers accept exactly the same set', () => {
  it('differential: fast-check header fields (zero, huge, ≥ 2^31), versions 1/2/3/other, build ids, KV formats and reserved bytes, the same verdict and code', async () => {
    let accepted = 0;
    let cases = 0;
    const acceptedKinds = new Set<string>();
    const started = performance.now();
    await fc.assert(
      fc.asyncProperty(fieldsArb, fc.constantFrom(0, 0, 0, 1, -1), extraArb, async (f, delta, extra) => {
        const bytes = craft(f, delta, extra);
        const ts = tsVerdict(bytes);
        const c = await cVerdict(bytes);
        cases++;
        if (ts === 'OK') {
          accepted++;
          const kv = extra.kv !== 0 ? `+kv${extra.kv}` : '';
          acceptedKinds.add(`v${extra.version}${extra.build.some((b) => b !== 0) ? '+build' : ''}${kv}`);
        }
        expect(c, JSON.stringify({ f, extra })).toBe(ts);
      }),
      { numRuns: 2500, seed: 17 },
    );
    // a differential test that never reaches acceptance would prove little
    expect(accepted).toBeGreaterThan(50);
    // every version was accepted, versions 2 and 3 with a build id too (version 1 never has one), version 3 with
    // each KV format (versions 1 and 2 never have one)
    for (const kind of ['v1', 'v2', 'v2+build', 'v3', 'v3+build']) expect(acceptedKinds).toContain(kind);
    for (const kv of ['kv1', 'kv2'])
      expect([...acceptedKinds].some((k) => k.startsWith('v3') && k.endsWith(kv))).toBe(true);
    expect([...acceptedKinds].filter((k) => /^v[12].*kv|kv[^12]/.test(k))).toEqual([]);
    console.info(
      `bounds: ${cases} crafted headers, ${accepted} accepted, ${Math.round(performance.now() - started)} ms`,
    );
  }, 300_000);

  it('a 400-byte image claiming vocab 2^23 × dim 512 (lengths wrap in 32 bits) is refused by both, IMAGE_BAD_TABLE', async () => {
    const f: Fields = {
      dim: 512,
      hidden: 512,
      layers: 1,
      heads: 8,
      kvHeads: 8,
      vocab: 2 ** 23,
      seqLen: 4,
      shared: 0,
      layerFrom: 0,
      layerTo: 0,
      flags: 1,
      vocabFrom: 0,
      vocabTo: 0,
      bits: 8,
      group: 2,
    };
    const bytes = craft(f); // i8 data 2^32 bytes and f16 scales 2^32 bytes: both 0 in a u32 field
    expect(bytes.length).toBeLessThan(512);
    expect(tsVerdict(bytes)).toBe('IMAGE_BAD_TABLE');
    expect(await cVerdict(bytes)).toBe('IMAGE_BAD_TABLE');
  });
});
