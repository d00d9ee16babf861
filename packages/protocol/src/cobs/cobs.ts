/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, IEEE/ACM ToN 1999): re-codes a byte string so
 * it contains no 0x00, at a cost of at most one byte per 254, so 0x00 can delimit frames and a receiver
 * resynchronises at the next 0x00 whatever came before (docs/protocol.md §2).
 *
 * Canonical form: a run of 254 non-zero bytes (code 0xFF) starts a new block only when more data
 * follows, so every input has exactly one encoding (the C firmware encodes identically).
 */
import { TinypipeError } from '../errors/tinypipe-error.js';

/** Largest encoded size of `n` bytes. */
export function cobsMaxEncodedLength(n: number): number {
  return n + Math.ceil(n / 254) + 1;
}

export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(cobsMaxEncodedLength(data.length));
  let codeAt = 0; // where the current block's code byte goes
  let o = 1;
  let code = 1;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
      continue;
    }
    out[o++] = b;
    code++;
    if (code === 0xff && i + 1 < data.length) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/**
 * Decodes one COBS block (without its 0x00 delimiter).
 * @throws TinypipeError FRAME_MALFORMED when the block holds a 0x00 or a code runs past its end
 */
export function cobsDecode(block: Uint8Array): Uint8Array {
  const out = new Uint8Array(block.length);
  let o = 0;
  let i = 0;
  while (i < block.length) {
    const code = block[i]!;
    if (code === 0) throw new TinypipeError('FRAME_MALFORMED', `COBS block has a 0x00 at offset ${i}`);
    if (i + code > block.length) {
      throw new TinypipeError(
        'FRAME_MALFORMED',
        `COBS code ${code} at offset ${i} runs past the block end (${block.length})`,
      );
    }
    for (let k = 1; k < code; k++) {
      const b = block[i + k]!;
      if (b === 0) throw new TinypipeError('FRAME_MALFORMED', `COBS block has a 0x00 at offset ${i + k}`);
      out[o++] = b;
    }
    i += code;
    if (code !== 0xff && i < block.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
