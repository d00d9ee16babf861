/**
 * What a message costs on the line (docs/protocol.md §2–§3): its frame (12-byte header, payload, CRC-32C),
 * COBS-encoded (one code byte per 254 and one more), between two 0x00 delimiters.
 */
export function wireBytes(payload: number): number {
  const frame = 12 + payload + 4;
  return frame + Math.ceil(frame / 254) + 1 + 2;
}

/** Microseconds a message of `payload` bytes takes on a UART at `baud` (8N1: 10 bits per byte). */
export function wireMicros(payload: number, baud: number): number {
  return (wireBytes(payload) * 10 * 1e6) / baud;
}
