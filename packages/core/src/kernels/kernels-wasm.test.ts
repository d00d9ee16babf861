/**
 * The embedded module is kernels.wat assembled: wat2wasm (wabt) is run on the source again and the
 * result must equal the committed kernels-wasm.generated.ts byte for byte.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assembleKernels, generatedPath, generatedSource } from '../../scripts/build-kernels.js';
import { kernelBytes } from './wasm.js';

describe('kernels-wasm.generated.ts', () => {
  it('is kernels.wat assembled by wat2wasm (run `npx tsx scripts/build-kernels.ts` after editing the .wat)', async () => {
    const bytes = await assembleKernels();
    expect(Buffer.from(kernelBytes()).equals(Buffer.from(bytes))).toBe(true);
    expect(readFileSync(generatedPath, 'utf8')).toBe(generatedSource(bytes));
  });

  it('uses no relaxed SIMD: assembling with relaxed SIMD disabled succeeded, and no 0xFD 0x100+ opcodes', async () => {
    // relaxed SIMD opcodes are 0xFD followed by LEB128 0x100…0x113 (first byte 0x80…0x93, then 0x02)
    const bytes = await assembleKernels();
    for (let i = 0; i + 2 < bytes.length; i++) {
      if (bytes[i] === 0xfd && bytes[i + 1]! >= 0x80 && bytes[i + 1]! <= 0x93 && bytes[i + 2] === 0x02) {
        expect.fail(`possible relaxed SIMD opcode at byte ${i}`);
      }
    }
  });
});
