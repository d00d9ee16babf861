/**
 * KV formats (docs/numerics.md §6b) and their place in the HELLO `caps` word (docs/protocol.md §4.1,
 * bits 3–4): names in number order, a round trip for each, the bits where the protocol says, and a
 * number no format has refused.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeHello, encodeHello, HELLO_CAPS_KV_SHIFT, HELLO_OFFSETS, type HelloInfo } from './hello.js';
import { isKvFormat, KV_FORMATS, kvFormatCode, kvFormatOf } from './kv-format.js';

const vectors = JSON.parse(
  readFileSync(new URL('../../../../docs/vectors/protocol.json', import.meta.url), 'utf8'),
) as { hello: { info: { caps: Record<string, unknown> }; bytes: string }[] };

const board: HelloInfo = {
  protocol: 2,
  role: 'board',
  board: 0,
  fingerprint: Uint8Array.from({ length: 32 }, (_, i) => 255 - i),
  layers: [0, 5],
  vocab: [0, 0],
  maxPayload: 4096,
  streams: 3,
  caps: { embedding: true, classifier: false, sampler: false },
  baud: 0,
  build: undefined,
};
const capsWord = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset).getUint32(HELLO_OFFSETS.caps, true);

describe('KV formats', () => {
  it('are numbered fp32 0, fp16 1, int8 2 (the image header, HELLO caps and C tp_kv_format)', () => {
    expect([...KV_FORMATS]).toEqual(['fp32', 'fp16', 'int8']);
    expect(KV_FORMATS.map(kvFormatCode)).toEqual([0, 1, 2]);
    expect([0, 1, 2].map(kvFormatOf)).toEqual(['fp32', 'fp16', 'int8']);
    expect(kvFormatOf(3)).toBeUndefined();
    expect(kvFormatOf(-1)).toBeUndefined();
    expect(KV_FORMATS.every(isKvFormat)).toBe(true);
    expect(['FP16', 'int4', '', 1, undefined].some(isKvFormat)).toBe(false);
    expect(() => kvFormatCode('q4' as never)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('HELLO caps bits 3–4: the KV format', () => {
  it('round-trip for each format, at bits 3–4 beside the other caps', () => {
    for (const kv of KV_FORMATS) {
      const caps = { embedding: true, classifier: true, sampler: true, kv };
      const bytes = encodeHello({ ...board, caps });
      expect(decodeHello(bytes)).toEqual({ ...board, caps });
      expect(capsWord(bytes)).toBe(0b111 | (kvFormatCode(kv) << 3));
      expect(HELLO_CAPS_KV_SHIFT).toBe(3);
      // nothing else in the payload depends on the KV format
      const fp32 = encodeHello({ ...board, caps: { ...caps, kv: 'fp32' } });
      const differ = Array.from(bytes).flatMap((b, i) => (b !== fp32[i] ? [i] : []));
      expect(differ).toEqual(kv === 'fp32' ? [] : [HELLO_OFFSETS.caps]);
    }
  });

  it('encodes no KV format as fp32 and decodes it as fp32', () => {
    const bytes = encodeHello(board);
    expect(capsWord(bytes)).toBe(1);
    expect(decodeHello(bytes).caps).toEqual({
      embedding: true,
      classifier: false,
      sampler: false,
      kv: 'fp32',
    });
  });

  it('refuses KV format 3 as MESSAGE_MALFORMED, naming it; other unknown caps bits stay ignored', () => {
    const bytes = encodeHello(board);
    bytes[HELLO_OFFSETS.caps] = 0b11001;
    expect(() => decodeHello(bytes)).toThrow(
      expect.objectContaining({ code: 'MESSAGE_MALFORMED', message: expect.stringMatching(/KV format 3/) }),
    );
    bytes[HELLO_OFFSETS.caps] = 0b10001; // int8
    bytes[HELLO_OFFSETS.caps + 1] = 0x80; // bit 15: not assigned
    expect(decodeHello(bytes).caps).toEqual({
      embedding: true,
      classifier: false,
      sampler: false,
      kv: 'int8',
    });
  });

  it('docs/vectors/protocol.json holds a board HELLO with each KV format, bits where the info says', () => {
    const kvs = vectors.hello.map((v) => {
      const h = decodeHello(Buffer.from(v.bytes, 'hex'));
      expect(h.caps.kv).toBe(v.info.caps.kv);
      return h.caps.kv;
    });
    expect(new Set(kvs)).toEqual(new Set(KV_FORMATS));
  });
});
