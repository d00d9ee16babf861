/**
 * The same firmware as a real 32-bit MCU build: bare-metal rv32imafc (single-precision FPU) under
 * qemu-system-riscv32 — tokens and per-layer hashes must equal the TS QuantEngine's.
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
});
