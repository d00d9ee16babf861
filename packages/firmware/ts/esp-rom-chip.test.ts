/**
 * The virtual ESP32-S3's chip options (--chip-id, --mac, --flash-size as the JEDEC id) and the stub's
 * extras: READ_FLASH, and the faults (--corrupt-block, --drop-after).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  command,
  dataCommand,
  hex,
  md5,
  OP,
  startStub,
  status,
  vectors,
  virtualChips,
  words,
} from './esp-rom.test-helper.js';
import { spawnPtyBoard } from './pty-board.js';

const { tmp, chip } = virtualChips();

describe('chip options and stub extras', () => {
  it('--chip-id and --mac reach GET_SECURITY_INFO, the chip-detect magic and the eFuse MAC words', async () => {
    const c = await chip({ chipId: 2, mac: '12:34:56:78:9a:bc' });
    const info = (await c.ask(command(OP.GET_SECURITY_INFO!)))!;
    expect(Buffer.from(info).readUInt32LE(8 + 12)).toBe(2);
    const reg = async (addr: number) =>
      Buffer.from((await c.ask(command(OP.READ_REG!, words(addr))))!).readUInt32LE(4);
    expect(await reg(0x40001000)).toBe(0x7c6); // the ESP32-S2's magic
    expect(await reg(0x60007044)).toBe(0x56789abc);
    expect(await reg(0x60007048)).toBe(0x1234);
  });

  it("the JEDEC capacity byte follows --flash-size through esptool's size table", async () => {
    const regs = vectors.flashId.registers;
    for (const size of [256 << 10, 4 << 20, 16 << 20]) {
      const c = await chip({ flashSize: size });
      for (const [addr, value] of [
        [regs.MISO_DLEN!, 23],
        [regs.USR!, 0x90000000],
        [regs.USR2!, 0x7000009f],
        [regs.W0!, 0],
        [regs.CMD!, 1 << 18],
      ] as const)
        await c.ask(command(OP.WRITE_REG!, words(addr, value, 0xffffffff, 0)));
      const id = Buffer.from((await c.ask(command(OP.READ_REG!, words(regs.W0!))))!).readUInt32LE(4);
      expect(vectors.flashId.sizes[`0x${((id >> 16) & 0xff).toString(16)}`]).toBe(size);
      if (vectors.flashId.boardFlashId[String(size)])
        expect(id).toBe(vectors.flashId.boardFlashId[String(size)]);
    }
  });

  it('a --flash-size outside the table is refused at start', async () => {
    await expect(
      spawnPtyBoard(undefined, { flash: join(tmp, 'odd.flash'), flashSize: 3 << 20 }),
    ).rejects.toThrow(/power of two/);
  });

  it('stub READ_FLASH: the reply, packets each acknowledged with the total, then the MD5 of it all', async () => {
    const c = await chip();
    await startStub(c);
    const content = new Uint8Array(6000).map((_, i) => (i * 7) & 0xff);
    await c.ask(command(OP.FLASH_BEGIN!, words(content.length, 1, 0x4000, 0x30000)));
    expect(status(await c.ask(dataCommand(OP.FLASH_DATA!, content)), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.READ_FLASH!, words(0x30000, 6000, 4096, 64))), 2)).toBe('0000');
    const first = (await c.frames.next())!;
    expect(first.length).toBe(4096);
    await c.send(words(4096));
    const second = (await c.frames.next())!;
    await c.send(words(6000));
    expect(hex(new Uint8Array([...first, ...second]))).toBe(hex(content));
    expect(hex((await c.frames.next())!)).toBe(hex(md5(content)));
  });

  it('faults: --corrupt-block flips a bit of that block in flash; --drop-after ends the board mid-write', async () => {
    const c = await chip({ corruptBlock: 1 });
    await startStub(c);
    const block = new Uint8Array(0x4000).fill(0x5a);
    await c.ask(command(OP.FLASH_BEGIN!, words(0x8000, 2, 0x4000, 0x40000)));
    await c.ask(dataCommand(OP.FLASH_DATA!, block, 0));
    await c.ask(dataCommand(OP.FLASH_DATA!, block, 1));
    const f = readFileSync(c.flash);
    expect(f.subarray(0x40000, 0x44000).every((b) => b === 0x5a)).toBe(true);
    expect(f[0x44000]).toBe(0x5a ^ 1);

    const d = await chip({ dropAfter: 1 });
    await startStub(d);
    await d.ask(command(OP.FLASH_BEGIN!, words(0x8000, 2, 0x4000, 0x40000)));
    expect(status(await d.ask(dataCommand(OP.FLASH_DATA!, block, 0)), 2)).toBe('0000');
    const exited = new Promise<void>((resolve) => d.board.process.once('exit', () => resolve()));
    await d.send(dataCommand(OP.FLASH_DATA!, block, 1));
    await exited;
    expect(d.board.process.exitCode).toBe(3);
  });
});
