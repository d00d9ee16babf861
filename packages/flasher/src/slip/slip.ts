/**
 * SLIP (RFC 1055) as the ESP serial bootloader uses it: each packet between 0xC0 bytes, 0xC0 inside sent
 * as 0xDB 0xDC and 0xDB as 0xDB 0xDD. Written here: it is ten lines, and the decoder must resync on our
 * terms (drop an oversized or broken packet and wait for the next 0xC0).
 */
export function slipEncode(packet: Uint8Array): Uint8Array {
  const out: number[] = [0xc0];
  for (const b of packet) {
    if (b === 0xc0) out.push(0xdb, 0xdc);
    else if (b === 0xdb) out.push(0xdb, 0xdd);
    else out.push(b);
  }
  out.push(0xc0);
  return Uint8Array.from(out);
}

/** Push any chunking of the line; every complete packet goes to `onPacket`. Bytes outside packets (boot logs) are dropped. */
export class SlipDecoder {
  #packet: number[] = [];
  #inPacket = false;
  #escape = false;
  constructor(
    private readonly onPacket: (p: Uint8Array) => void,
    private readonly maxBytes = 64 * 1024,
  ) {}

  /** Appends a decoded byte, or drops the packet once it would pass `maxBytes` (escaped bytes count too). */
  #add(b: number): void {
    if (this.#packet.length < this.maxBytes) this.#packet.push(b);
    else this.#inPacket = false;
  }

  push(bytes: Uint8Array): void {
    for (const b of bytes) {
      if (b === 0xc0) {
        // a packet that ends inside an escape (0xDB 0xC0) is broken: dropped like a bad escape
        if (this.#inPacket && !this.#escape && this.#packet.length > 0)
          this.onPacket(Uint8Array.from(this.#packet));
        this.#inPacket = true;
        this.#packet = [];
        this.#escape = false;
        continue;
      }
      if (!this.#inPacket) continue;
      if (this.#escape) {
        this.#escape = false;
        const decoded = b === 0xdc ? 0xc0 : b === 0xdd ? 0xdb : undefined;
        if (decoded === undefined)
          this.#inPacket = false; // not a SLIP escape: drop the packet
        else this.#add(decoded);
        continue;
      }
      if (b === 0xdb) this.#escape = true;
      else this.#add(b);
    }
  }
}
