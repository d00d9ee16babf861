/**
 * The same firmware as a real 32-bit MCU build: bare-metal rv32imafc (single-precision FPU) under
 * qemu-system-riscv32 — tokens and per-layer hashes must equal the TS QuantEngine's, with the KV cache in each
 * format (docs/numerics.md §6b).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  argmax,
  buildImage,
  hashHex,
  QuantEngine,
  quantize,
  readCheckpoint,
  splitSelections,
} from '@tinypipe/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRv32, runRv32 } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { COMPACT_KV, greedyLines, imageWithKv } from './kv.test-helper.js';

const checkpoint = readCheckpoint(
  new Uint8Array(readFileSync(fileURLToPath(new URL('../../../models/stories260K.bin', import.meta.url)))),
);
let elf: string;
beforeAll(() => {
  elf = buildRv32();
});

describe('rv32imafc under QEMU', () => {
  for (const kind of ['q4', 'q8'] as const) {
    for (const split of [[5], [2, 3]]) {
      it(`stories260K ${kind}, stages [${split}], 40 steps: same tokens and layer hashes as TS`, () => {
        const qm = quantize(checkpoint, { weights: kind });
        const images = splitSelections(qm.config, split, split.length).map((sel, i) => {
          const path = join(tmp, `rv32-${kind}-${split.join('_')}-${i}.img`);
          writeFileSync(path, buildImage(qm, sel));
          return path;
        });
        const lines = runRv32(elf, 40, images).trim().split('\n');
        const engine = QuantEngine.fromModel(qm, { layerHashes: true });
        const expected: string[] = [];
        let token = 1;
        for (let pos = 0; pos < 40; pos++) {
          token = argmax(engine.forward(token, pos));
          expected.push([pos, token, ...engine.lastLayerHashes().map(hashHex)].join(' '));
        }
        expect(lines).toEqual(expected);
      });
    }
  }

  for (const kv of COMPACT_KV) {
    it(`stories260K q8, KV cache ${kv}, stages [2,3], 40 steps: same tokens and layer hashes as TS with that format`, () => {
      const qm = quantize(checkpoint, { weights: 'q8' });
      const images = splitSelections(qm.config, [2, 3], 2).map((sel, i) => {
        const path = join(tmp, `rv32-kv-${kv}-${i}.img`);
        writeFileSync(path, imageWithKv(qm, sel, kv));
        return path;
      });
      const expected = greedyLines(qm, kv, 40);
      expect(runRv32(elf, 40, images).trim().split('\n')).toEqual(expected);
      expect(expected).not.toEqual(greedyLines(qm, 'fp32', 40)); // the format is in effect
    });
  }
});
