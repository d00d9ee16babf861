import { describe, expect, it } from 'vitest';
import { SlipDecoder, slipEncode } from '../slip/slip.js';
import { checksum, decodeResponse, encodeCommand, Op, SYNC_DATA } from './commands.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('SLIP and packets, against the documented byte layouts', () => {
  it('escapes 0xC0 and 0xDB and frames with 0xC0', () => {
    expect(hex(slipEncode(Uint8Array.of(0x01, 0xc0, 0x02, 0xdb, 0x03)))).toBe('c001dbdc02dbdd03c0');
    const got: string[] = [];
    const d = new SlipDecoder((p) => got.push(hex(p)));
    // boot noise before the frame, then the frame split across chunks
    d.push(Uint8Array.of(0x41, 0x42, 0xc0, 0x01, 0xdb));
    d.push(Uint8Array.of(0xdc, 0x02, 0xc0));
    expect(got).toEqual(['01c002']);
  });

  it('writes SYNC as the bootloader expects it', () => {
    // 00 | 08 | 24 00 (36 data bytes) | 00 00 00 00 | 07 07 12 20 | 32 × 55
    expect(hex(encodeCommand(Op.SYNC, SYNC_DATA))).toBe(`000824000000000007071220${'55'.repeat(32)}`);
  });

  it('checksums a data block as XOR seeded with 0xEF, carried in the header', () => {
    const block = Uint8Array.of(0x01, 0x02, 0x04);
    expect(checksum(block)).toBe(0xef ^ 0x07);
    expect(hex(encodeCommand(Op.FLASH_DEFL_DATA, block, checksum(block)).subarray(0, 8))).toBe(
      '00110300e8000000', // 00 | op 0x11 | size 3 | checksum 0xE8
    );
  });

  it('reads a response: value, data, status and error', () => {
    // 01 | 0a (READ_REG) | 02 00 | value 0x12345678 | status 0, error 0
    expect(decodeResponse(Uint8Array.from(Buffer.from('010a0200785634120000', 'hex')))).toEqual({
      op: 0x0a,
      value: 0x12345678,
      data: new Uint8Array(0),
      status: 0,
      error: 0,
    });
    // a failure: status 1, error 0xc1 (bad checksum)
    expect(decodeResponse(Uint8Array.from(Buffer.from('0111020000000000' + '01c1', 'hex')))?.error).toBe(
      0xc1,
    );
    expect(decodeResponse(Uint8Array.of(0x00, 0x08))).toBeUndefined();
  });
});
