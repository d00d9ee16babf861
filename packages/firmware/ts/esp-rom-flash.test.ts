/**
 * The virtual ESP32-S3's flash (tinypipe-board --pty --flash): a new file erased, one of another size refused,
 * the ROM's erase at BEGIN taking time by size, NOR programming, and which sectors each loader erases.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  attach,
  command,
  dataCommand,
  OP,
  startStub,
  status,
  virtualChips,
  words,
} from './esp-rom.test-helper.js';

const { tmp, chip } = virtualChips();

describe('the flash', () => {
  it('a new flash file reads erased (0xFF); one of another size is refused and left as it was (a chip never changes size)', async () => {
    const fresh = await chip({ flashSize: 1 << 20 });
    expect(readFileSync(fresh.flash).every((b) => b === 0xff)).toBe(true);
    const old = join(tmp, 'short.flash');
    writeFileSync(old, Buffer.alloc(4096, 0x00));
    await expect(chip({ flash: old, flashSize: 1 << 20 })).rejects.toThrow(
      `FLASH: ${old} is 4096 bytes but --flash-size is 1048576: give --flash-size 4096, or remove the file for a new (erased) flash`,
    );
    expect(readFileSync(old).equals(Buffer.alloc(4096, 0x00))).toBe(true);
  });

  it('the ROM erases at BEGIN, before it answers, in time proportional to the size (--erase-us-per-mb)', async () => {
    const c = await chip({ eraseUsPerMb: 400_000 });
    await c.ask(attach);
    const timed = async (size: number) => {
      const t = performance.now();
      expect(
        status(await c.ask(command(OP.FLASH_BEGIN!, words(size, size / 0x400, 0x400, 0x100000, 0))), 4),
      ).toBe('00000000');
      return performance.now() - t;
    };
    // no wall-clock ceiling (a loaded machine makes anything slower, never faster): 1 MiB at 0.4 s/MiB
    // takes its 400 ms, 64 KiB its 25 ms, and the small erase is not a fixed cost as long as the large one
    const mib = await timed(0x100000);
    const small = await timed(0x10000);
    expect(mib).toBeGreaterThan(380);
    expect(small).toBeGreaterThan(23);
    expect(small).toBeLessThan(mib / 2);
  });

  it('NOR programming ANDs: the ROM erased all three sectors at BEGIN, the stub only those the data reached', async () => {
    for (const loader of ['rom', 'stub'] as const) {
      const flash = join(tmp, `zeros-${loader}.flash`);
      writeFileSync(flash, Buffer.alloc(1 << 20, 0x00)); // programmed all over: only an erase brings back 0xFF
      const c = await chip({ flash, flashSize: 1 << 20 });
      if (loader === 'rom') await c.ask(attach);
      else await startStub(c);
      const block = new Uint8Array(0x400).fill(0xab);
      const begin =
        loader === 'rom' ? words(0x3000, 12, 0x400, 0x20000, 0) : words(0x3000, 1, 0x4000, 0x20000);
      const ok = loader === 'rom' ? '00000000' : '0000';
      expect(status(await c.ask(command(OP.FLASH_BEGIN!, begin)), loader === 'rom' ? 4 : 2)).toBe(ok);
      expect(status(await c.ask(dataCommand(OP.FLASH_DATA!, block)), loader === 'rom' ? 4 : 2)).toBe(ok);
      const f = readFileSync(flash);
      const all = (from: number, to: number, v: number) => f.subarray(from, to).every((x) => x === v);
      expect(all(0x20000, 0x20400, 0xab)).toBe(true);
      expect(all(0x20400, 0x21000, 0xff)).toBe(true); // both erased the first sector
      expect(all(0x21000, 0x23000, loader === 'rom' ? 0xff : 0x00)).toBe(true);
    }
  });
});
