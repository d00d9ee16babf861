/**
 * The firmware's tokenizer (src/tokenizer.c) on the host build: every golden and fast-check batches equal
 * the TS tokenizer (tokenizer-suite.test-helper.ts), and a section that breaks a rule is refused at load.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readImage, tokenizerSection } from '@tinypipe/core';
import { crc32c, TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { hostRunner, sectionFile } from './tokenizer.test-helper.js';
import { imageWith, tokenizerSuite, tokenizers } from './tokenizer-suite.test-helper.js';

tokenizerSuite(hostRunner, 25, 60);

describe('tp_tokenizer_init refuses a section that breaks a rule', () => {
  const good = tokenizerSection(tokenizers['tok512.bin']);
  const swapped = good.sorted.slice();
  [swapped[100], swapped[101]] = [swapped[101]!, swapped[100]!];
  const cases: [string, Parameters<typeof sectionFile>[0]][] = [
    ['two sorted entries swapped', { ...good, sorted: swapped }],
    [
      'a sorted entry repeated',
      { ...good, sorted: good.sorted.map((id, i) => (i === 7 ? good.sorted[8]! : id)) },
    ],
    [
      'a sorted id past the vocabulary',
      { ...good, sorted: good.sorted.map((id, i) => (i === 3 ? 512 : id)) },
    ],
    ['a piece longer than max_token_length', { ...good, maxTokenLength: 1 }],
    ['offsets not from 0', { ...good, offsets: good.offsets.map((o, i) => (i === 0 ? 1 : o)) }],
    ['offsets decreasing', { ...good, offsets: good.offsets.map((o, i) => (i === 300 ? o + 9 : o)) }],
    ['max_token_length 0', { ...good, maxTokenLength: 0 }],
  ];
  for (const [name, section] of cases) {
    it(`${name} → IMAGE_BAD_TABLE`, () => {
      expect(cLoad('section', sectionFile(section))).toBe('IMAGE_BAD_TABLE');
    });
  }
});

/** What the C harness says of loading `bytes`: 'OK', or the status name it prints. */
function cLoad(mode: 'section' | 'image', bytes: Uint8Array): string {
  const file = join(tmp, 'load.bin');
  const cases = join(tmp, 'no-cases.bin');
  writeFileSync(file, bytes);
  writeFileSync(cases, new Uint8Array(0));
  try {
    execFileSync(
      join(buildPosixBoard({ sanitize: true }).dir, 'tp-tokenizer'),
      [mode, file, cases, join(tmp, 'load-out.bin')],
      {
        stdio: 'pipe',
      },
    );
    return 'OK';
  } catch (e) {
    const err = e as { status: number; stdout: Buffer };
    expect(err.status, err.stdout.toString()).toBe(1);
    return err.stdout.toString().trim().split(': ').at(-1) ?? '';
  }
}

/** What readImage says of `bytes`: 'OK' or its error code. */
function tsLoad(bytes: Uint8Array): string {
  try {
    readImage(bytes);
    return 'OK';
  } catch (e) {
    if (e instanceof TinypipeError) return e.code;
    throw e;
  }
}

describe('the image tokenizer section: the C reader and readImage agree on damage', () => {
  const img = imageWith(tokenizers['tok512.bin']);
  const { tensors } = readImage(img);
  const section = tensors.filter((t) => t.name.startsWith('tokenizer.'));
  const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);

  it('reads the intact image', () => {
    expect([cLoad('image', img), tsLoad(img)]).toEqual(['OK', 'OK']);
  });

  it('a bit flipped in each tokenizer tensor (a byte every 13 words or 61 bytes, a rotating bit): IMAGE_TENSOR_CRC in both', () => {
    let n = 0;
    for (const t of section) {
      for (let i = t.offset; i < t.offset + t.byteLength; i += t.name === 'tokenizer.bytes' ? 61 : 13 * 16) {
        const bad = img.slice();
        bad[i] = (bad[i] as number) ^ (1 << (i % 8));
        expect([i, cLoad('image', bad)]).toEqual([i, 'IMAGE_TENSOR_CRC']);
        expect(tsLoad(bad)).toBe('IMAGE_TENSOR_CRC');
        n++;
      }
    }
    expect(n).toBeGreaterThan(50);
  });

  it('every bit of the flags byte and of the tokenizer header fields: the same code from both', () => {
    for (const at of [0x58, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b]) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = img.slice();
        bad[at] = (bad[at] as number) ^ (1 << bit);
        const ts = tsLoad(bad);
        expect(ts).not.toBe('OK');
        expect([at, bit, cLoad('image', bad)]).toEqual([at, bit, ts]);
      }
    }
  });

  it('a wrong sorted index with every CRC resealed: IMAGE_BAD_TABLE from both (checked at boot)', () => {
    const sorted = section.find((t) => t.name === 'tokenizer.sorted')!;
    const bad = img.slice();
    const v = dv(bad);
    const [a, b] = [v.getUint32(sorted.offset + 40, true), v.getUint32(sorted.offset + 44, true)];
    v.setUint32(sorted.offset + 40, b, true);
    v.setUint32(sorted.offset + 44, a, true);
    const entry = 256 + tensors.indexOf(sorted) * 64;
    v.setUint32(entry + 0x38, crc32c(bad.subarray(sorted.offset, sorted.offset + sorted.byteLength)), true);
    const tableEnd = 256 + tensors.length * 64;
    v.setUint32(0x0c, crc32c(bad.subarray(16, tableEnd), crc32c(bad.subarray(0, 12))), true);
    expect([cLoad('image', bad), tsLoad(bad)]).toEqual(['IMAGE_BAD_TABLE', 'IMAGE_BAD_TABLE']);
  });
});
