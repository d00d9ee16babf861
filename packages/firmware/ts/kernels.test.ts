import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BuiltPrograms, buildPosixBoard } from './build.js';

// Shapes straddling the SIMD widths (8 int16 lanes per SSE2 register, 16 per 256-bit register, 32 columns
// per default group): rows odd and even, cols one below / at / above a multiple, short last groups,
// groups other than 32 (even, odd: q4 groups starting mid-byte), a single column pair, and rows longer
// than the optimized kernel's 512-column chunk (several chunks, the last one short).
const shapes = [
  'q4:1:2:32',
  'q4:3:2:2',
  'q4:7:8:32',
  'q4:5:14:32',
  'q4:9:16:32',
  'q4:3:18:32',
  'q4:5:30:32',
  'q4:7:32:32',
  'q4:5:34:32',
  'q4:3:62:32',
  'q4:11:64:32',
  'q4:3:66:32',
  'q4:13:96:32',
  'q4:5:172:32', // stories260K's hidden_dim: a short last group of 12
  'q4:9:288:32',
  'q4:3:510:32',
  'q4:5:512:32',
  'q4:3:514:32',
  'q4:7:768:32',
  'q4:3:1030:32',
  'q4:3:2050:64',
  'q4:5:100:10',
  'q4:3:96:16',
  'q4:3:120:8',
  'q4:3:90:6',
  'q4:5:288:512',
  'q4:3:1100:512',
  'q4:3:1100:1024', // a group wider than a chunk: the reference path
  'q4:5:96:33', // odd group: groups start mid-byte
  'q4:5:33:32', // odd cols: rows start mid-byte
  'q8:1:1:32',
  'q8:3:7:32',
  'q8:5:9:32',
  'q8:7:15:32',
  'q8:3:17:32',
  'q8:9:31:32',
  'q8:5:33:32',
  'q8:3:63:32',
  'q8:5:65:32',
  'q8:7:288:32',
  'q8:3:511:32',
  'q8:3:513:32',
  'q8:3:768:32',
  'q8:5:1500:7',
  'q8:3:100:33',
  'q8:3:1000:1000',
];

let host: BuiltPrograms;
let asan: BuiltPrograms;
beforeAll(() => {
  host = buildPosixBoard();
  asan = buildPosixBoard({ sanitize: true });
});

function run(program: string, seed: number): string[] {
  return execFileSync(program, [String(seed), ...shapes], { encoding: 'utf8' })
    .trim()
    .split('\n');
}

describe('the optimized quantized matmul equals the ANSI reference byte for byte (test/kernels.c)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: host build (SSE2 on x86-64), portable C, and under ASan/UBSan`, () => {
      const outputs = [
        run(join(host.dir, 'tp-kernels'), seed),
        run(join(host.dir, 'tp-kernels-portable'), seed),
        run(join(asan.dir, 'tp-kernels'), seed),
      ];
      for (const lines of outputs) {
        expect(lines).toHaveLength(shapes.length);
        lines.forEach((line, i) => {
          expect(line).toMatch(new RegExp(`^${shapes[i]} ok [0-9a-f]{8}$`));
        });
      }
      // the same outputs from every build (the hash covers every output byte)
      expect(outputs[1]).toEqual(outputs[0]);
      expect(outputs[2]).toEqual(outputs[0]);
    });
  }

  it('refuses a malformed shape', () => {
    const r = spawnSync(join(host.dir, 'tp-kernels'), ['1', 'q5:1:2:3'], { encoding: 'utf8' });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('bad shape q5:1:2:3');
  });
});
