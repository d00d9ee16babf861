/**
 * The ESP serial bootloader's packets (the ROM's and the flasher stub's; documented by Espressif in the
 * esptool "Serial Protocol" chapter), before SLIP:
 *
 *   command   0 u8 0x00 | 1 u8 op | 2 u16 size | 4 u32 checksum | 8 data[size]
 *   response  0 u8 0x01 | 1 u8 op | 2 u16 size | 4 u32 value    | 8 data[size], ending in status, error
 *
 * The checksum (data-carrying commands only) is the XOR of the data block's bytes, seeded with 0xEF.
 */
export const Op = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  SYNC: 0x08,
  WRITE_REG: 0x09,
  READ_REG: 0x0a,
  SPI_SET_PARAMS: 0x0b,
  SPI_ATTACH: 0x0d,
  CHANGE_BAUDRATE: 0x0f,
  FLASH_DEFL_BEGIN: 0x10,
  FLASH_DEFL_DATA: 0x11,
  FLASH_DEFL_END: 0x12,
  SPI_FLASH_MD5: 0x13,
  GET_SECURITY_INFO: 0x14,
  ERASE_REGION: 0xd1,
} as const;

/** SYNC's payload: 0x07 0x07 0x12 0x20, then 32 × 0x55. */
export const SYNC_DATA = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

export function checksum(block: Uint8Array): number {
  let x = 0xef;
  for (const b of block) x ^= b;
  return x;
}

export function u32s(...values: number[]): Uint8Array {
  const out = new Uint8Array(4 * values.length);
  const v = new DataView(out.buffer);
  for (const [i, x] of values.entries()) v.setUint32(4 * i, x >>> 0, true);
  return out;
}

export function encodeCommand(op: number, data: Uint8Array, check = 0): Uint8Array {
  const out = new Uint8Array(8 + data.length);
  const v = new DataView(out.buffer);
  v.setUint8(0, 0x00);
  v.setUint8(1, op);
  v.setUint16(2, data.length, true);
  v.setUint32(4, check >>> 0, true);
  out.set(data, 8);
  return out;
}

export interface Response {
  op: number;
  value: number;
  /** The data before the two status bytes. */
  data: Uint8Array;
  status: number;
  error: number;
}

/** A response packet, or undefined when the packet is not one (a command echo, noise). */
export function decodeResponse(p: Uint8Array): Response | undefined {
  if (p.length < 10 || p[0] !== 0x01) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const size = v.getUint16(2, true);
  if (size < 2 || p.length < 8 + size) return undefined;
  return {
    op: p[1]!,
    value: v.getUint32(4, true),
    data: p.slice(8, 8 + size - 2),
    status: p[8 + size - 2]!,
    error: p[8 + size - 1]!,
  };
}

/** Names of the bootloader's error codes, for messages. */
export const ROM_ERRORS: Readonly<Record<number, string>> = {
  5: 'received message is invalid',
  6: 'failed to act on received message',
  7: 'invalid CRC in message',
  8: 'flash write error',
  9: 'flash read error',
  10: 'flash read length error',
  11: 'deflate error',
  192: 'bad data length',
  193: 'bad data checksum',
  197: 'invalid command',
  198: 'command failed',
  201: 'not in flash mode',
  203: 'inflate error',
};
