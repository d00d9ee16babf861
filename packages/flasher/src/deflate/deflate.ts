/**
 * How many bytes each compressed FLASH_DEFL_DATA block can inflate to: the ROM writes them before it
 * answers the block, so its timeout scales with them (esptool feeds every block through a decompressor
 * for the same figure). fflate's streaming inflater hands out whole deflate blocks only, so after block
 * k it has given `out[k]` bytes where a zlib decoder has given at least that and at most the bytes of the
 * deflate block still open — which fflate hands out at its next increase. Hence for block k:
 *
 *   inflated(k) ≤ out[next increase after k] − out[k − 1]
 */
import { Unzlib } from 'fflate';

export function blockInflationBounds(packed: Uint8Array, blockSize: number): number[] {
  const blocks = Math.ceil(packed.length / blockSize);
  const out: number[] = []; // bytes handed out once blocks 0..k were pushed
  let total = 0;
  const z = new Unzlib((chunk) => {
    total += chunk.length;
  });
  for (let k = 0; k < blocks; k++) {
    z.push(packed.subarray(k * blockSize, (k + 1) * blockSize), k === blocks - 1);
    out.push(total);
  }
  // m[k]: the first block after k where more comes out (the last block flushes everything)
  const m: number[] = [];
  for (let k = blocks - 1; k >= 0; k--)
    m[k] = k === blocks - 1 ? k : out[k + 1]! > out[k]! ? k + 1 : m[k + 1]!;
  return out.map((_, k) => out[m[k]!]! - (k > 0 ? out[k - 1]! : 0));
}
