/**
 * The ESP serial bootloader's packets (Espressif, esptool docs "Serial Protocol": Command Packet,
 * Response Packet), before SLIP:
 *
 *   command   0 u8 0x00 | 1 u8 op | 2 u16 size | 4 u32 checksum | 8 data[size]
 *   response  0 u8 0x01 | 1 u8 op | 2 u16 size | 4 u32 value    | 8 body[size], ending in the status bytes
 *
 * The checksum (MEM_DATA, FLASH_DATA, FLASH_DEFL_DATA only) is the XOR of the data block's bytes, seeded
 * with 0xEF. How many status bytes end a body depends on who answers: see `./status.ts`.
 */
export const Op = {
  FLASH_BEGIN: 0x02,
  FLASH_DATA: 0x03,
  FLASH_END: 0x04,
  MEM_BEGIN: 0x05,
  MEM_END: 0x06,
  MEM_DATA: 0x07,
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
  /** Stub only ("Supported by Stub Loader Only"): the ROM does not know it. */
  ERASE_REGION: 0xd1,
} as const;

export const opName = (op: number): string =>
  Object.entries(Op).find(([, v]) => v === op)?.[0] ?? `0x${op.toString(16).padStart(2, '0')}`;

/** SYNC's payload: 0x07 0x07 0x12 0x20, then 32 × 0x55. */
export const SYNC_DATA = Uint8Array.from([0x07, 0x07, 0x12, 0x20, ...new Array<number>(32).fill(0x55)]);

export function checksum(block: Uint8Array): number {
  let x = 0xef;
  for (const b of block) x ^= b;
  return x;
}

/** Little-endian 32-bit words, as every command argument is sent. */
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

/** A response packet before its status bytes are read (they depend on ROM vs stub). */
export interface Packet {
  op: number;
  value: number;
  /** `size` bytes: the command's data, then the status bytes. */
  body: Uint8Array;
}

/** A response packet, or undefined when the packet is not one (a command echo, noise, the stub's OHAI). */
export function decodePacket(p: Uint8Array): Packet | undefined {
  if (p.length < 8 || p[0] !== 0x01) return undefined;
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const size = v.getUint16(2, true);
  if (p.length < 8 + size) return undefined;
  return { op: p[1]!, value: v.getUint32(4, true), body: p.slice(8, 8 + size) };
}
