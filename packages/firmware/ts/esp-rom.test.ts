/**
 * The virtual ESP32-S3 download mode (tinypipe-board --pty --flash) against docs/vectors/esp-rom.json — what
 * the ROM loader and the flasher stub answer, written from Espressif's documentation and clients. The
 * behaviours packets alone cannot show are in esp-rom-flash (erase time and order, a new flash file),
 * esp-rom-resets and esp-rom-chip (the chip options, READ_FLASH, the faults). Raw SLIP over the board's PTY;
 * nothing of @tinypipe/flasher.
 */
import { describe, expect, it } from 'vitest';
import { bytes, checksum, hex, slip, vectors, virtualChips } from './esp-rom.test-helper.js';

const { chip } = virtualChips();

describe('the test helpers follow the vectors', () => {
  it('SLIP framing and the 0xEF-seeded XOR checksum', () => {
    for (const e of vectors.slip.examples) expect(hex(slip(bytes(e.packet)))).toBe(e.framed);
    for (const e of vectors.command.checksum.examples) expect(checksum(bytes(e.data))).toBe(e.checksum);
  });
});

describe('docs/vectors/esp-rom.json on tinypipe-board --pty --flash', () => {
  for (const scenario of [...vectors.scenarios, ...(vectors.flasher?.scenarios ?? [])]) {
    it(`${scenario.loader}: ${scenario.name}`, async () => {
      const c = await chip();
      for (const [i, step] of scenario.steps.entries()) {
        await c.send(bytes(step.send));
        for (const want of step.expect) {
          const got = await c.frames.next();
          expect(got && hex(got), `step ${i}${step.note ? ` (${step.note})` : ''}`).toBe(want);
        }
      }
      expect(await c.frames.next(150), 'nothing more than the vectors list').toBeUndefined();
    });
  }
});
