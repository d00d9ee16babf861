import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildImage, quantize, readCheckpoint, readImage, synthesize } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnBoard } from './board.js';
import { type BuiltPrograms, buildPosixBoard } from './build.js';
import { expectSame, runBoards, runTs, tmp } from './helpers.test-helper.js';

const core = (p: string) => fileURLToPath(new URL(`../../core/${p}`, import.meta.url));
const protocol = (p: string) => fileURLToPath(new URL(`../../protocol/${p}`, import.meta.url));
const checkpoint260K = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../models/stories260K.bin', import.meta.url)))),
);

let host: BuiltPrograms;
let asan: BuiltPrograms;
let ansi: BuiltPrograms;
beforeAll(() => {
  host = buildPosixBoard();
  asan = buildPosixBoard({ sanitize: true });
  ansi = buildPosixBoard({ ansi: true });
});

function compositions(n: number): number[][] {
  if (n === 0) return [[]];
  const out: number[][] = [];
  for (let first = 1; first <= n; first++)
    for (const rest of compositions(n - first)) out.push([first, ...rest]);
  return out;
}

describe('C numerics match the shared vectors', () => {
  it('exp, fp16, activation quantization (packages/core/src/numerics/vectors.json) and CRC-32C (packages/protocol/src/crc32c/vectors.json)', () => {
    const v = JSON.parse(readFileSync(core('src/numerics/vectors.json'), 'utf8'));
    const crc = JSON.parse(readFileSync(protocol('src/crc32c/vectors.json'), 'utf8'));
    const lines: string[] = [];
    const expected: string[] = [];
    for (const { x, y } of v.exp) {
      lines.push(`exp ${x}`);
      expected.push(y);
    }
    for (const { half, f32 } of v.fp16ToFp32) {
      lines.push(`f16 ${half}`);
      expected.push(f32);
    }
    for (const a of v.activations) {
      lines.push(`act ${a.groupSize} ${a.x.join(' ')}`);
      expected.push(
        `${a.q.map((q: number) => `${q} `).join('')}|${a.scales.map((s: string) => ` ${s}`).join('')}`,
      );
    }
    const crcCases = crc.vectors as { input_hex: string; crc32c: string }[];
    for (const c of crcCases) {
      lines.push(`crc ${c.input_hex === '' ? '-' : c.input_hex}`);
      expected.push(`0x${c.crc32c.toLowerCase().replace(/^0x/, '').padStart(8, '0')}`);
    }
    const out = execFileSync(host.vectors, { input: `${lines.join('\n')}\n`, encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(out).toEqual(expected);
    expect(crcCases.length).toBeGreaterThan(3);
  });
});

describe('C boards equal the TS QuantEngine bit for bit', () => {
  for (const kind of ['q4', 'q8'] as const) {
    it(`stories260K ${kind}: all 16 layouts, 128 steps: tokens, logits bytes, layer hashes`, async () => {
      const qm = quantize(checkpoint260K, { weights: kind });
      const reference = runTs(qm, 128);
      for (const split of compositions(5)) {
        expectSame(
          reference,
          await runBoards(qm, split, Math.min(2, split.length), 128),
          `[${split}]`,
          expect,
        );
      }
    });
  }

  it('synthetic 15M q4: monolithic and split 3+3, 2+2+2, 128 steps', async () => {
    const qm = quantize(synthesize('15M', 1), { weights: 'q4' });
    const reference = runTs(qm, 128);
    for (const split of [[6], [3, 3], [2, 2, 2]]) {
      expectSame(reference, await runBoards(qm, split, split.length > 1 ? 2 : 1, 128), `[${split}]`, expect);
    }
  });

  it('the optimized kernels equal the ANSI ones (and both run clean under ASan) at row lengths 31, 32, 33, 63, 64, 65, 66, 96, 288, 768', async () => {
    const shapes = [
      { dim: 64, hiddenDim: 65, kind: 'q8' as const, group: 32 }, // short last group of 1
      { dim: 96, hiddenDim: 31, kind: 'q8' as const, group: 32 }, // a single short group
      { dim: 64, hiddenDim: 66, kind: 'q4' as const, group: 32 },
      { dim: 32, hiddenDim: 768, kind: 'q4' as const, group: 32 },
      { dim: 288, hiddenDim: 96, kind: 'q4' as const, group: 33 }, // odd groups start mid-byte
      { dim: 40, hiddenDim: 33, kind: 'q8' as const, group: 32 },
      { dim: 32, hiddenDim: 63, kind: 'q8' as const, group: 32 },
    ];
    for (const s of shapes) {
      const ck = synthesize(
        {
          dim: s.dim,
          hiddenDim: s.hiddenDim,
          nLayers: 2,
          nHeads: 4,
          nKvHeads: 2,
          vocabSize: 96,
          seqLen: 16,
          sharedClassifier: false,
        },
        3,
      );
      const qm = quantize(ck, { weights: s.kind, groupSize: s.group });
      const a = await runBoards(qm, [1, 1], 1, 12, ansi.board);
      const b = await runBoards(qm, [1, 1], 1, 12, host.board);
      expectSame(a, b, `${JSON.stringify(s)} ansi vs opt`, expect);
      expectSame(runTs(qm, 12), b, `${JSON.stringify(s)} TS vs C`, expect);
      expectSame(
        a,
        await runBoards(qm, [1, 1], 1, 12, asan.board),
        `${JSON.stringify(s)} ansi vs asan`,
        expect,
      );
    }
  });
});

describe('under AddressSanitizer and UndefinedBehaviorSanitizer', () => {
  it('the board runs a split stories260K q4 bit-exact', async () => {
    const qm = quantize(checkpoint260K, { weights: 'q4' });
    expectSame(runTs(qm, 24), await runBoards(qm, [2, 3], 2, 24, asan.board), 'asan [2,3]', expect);
  });

  it('10,000 corrupted or truncated images are all refused with a status, no crash', () => {
    const path = join(tmp, 'fuzz.img');
    writeFileSync(
      path,
      buildImage(quantize(checkpoint260K, { weights: 'q4' }), {
        layers: [1, 4],
        embedding: true,
        classifier: [0, 300],
      }),
    );
    const out = execFileSync(asan.fuzzImage, [path, '10000', '12345'], { encoding: 'utf8' });
    expect(out).toMatch(/^refused (\d+) of 10000, accepted-corrupt 0\n/);
    expect(out).toMatch(/IMAGE_TENSOR_CRC \d+/);
    expect(out).toMatch(/IMAGE_TRUNCATED \d+/);
  });
});

describe('the C verifier refuses what the TS reader refuses, with the same code', () => {
  it('single-byte corruptions across header, table and tensors, and truncations', async () => {
    const image = buildImage(quantize(checkpoint260K, { weights: 'q8' }), {
      layers: [0, 2],
      embedding: true,
      classifier: false,
    });
    const board = spawnBoard({ program: host.board });
    try {
      const offsets = [0, 4, 8, 12, 0x30, 0x3c, 0x50, 0x54, 0x64, 0x68, 0x6c, 0x74, 0x80, 256, 300, 400];
      for (let at = 1000; at < image.length; at += Math.floor(image.length / 40)) offsets.push(at);
      const cases: [string, Uint8Array][] = offsets.map((at) => {
        const m = image.slice();
        m[at]! ^= 0x5a;
        return [`byte ${at}`, m];
      });
      for (const cut of [100, 256, 1000, image.length - 1])
        cases.push([`cut at ${cut}`, image.slice(0, cut)]);
      cases.push(['one byte longer', new Uint8Array([...image, 0])]);
      for (const [label, bytes] of cases) {
        let tsCode = 'OK';
        try {
          readImage(bytes);
        } catch (e) {
          if (!TinypipeError.isInstance(e)) throw e;
          tsCode = e.code;
        }
        const path = join(tmp, 'case.img');
        writeFileSync(path, bytes);
        let cCode = 'OK';
        await board.open(path).catch((e: TinypipeError) => {
          cCode = String(e.details?.boardCode);
        });
        expect(cCode, label).toBe(tsCode);
        expect(cCode, label).not.toBe('OK');
      }
    } finally {
      await board.close();
    }
  });
});
