/**
 * How the virtual ESP32-S3 leaves download mode (docs/esp-rom.md "Leaving download mode"): FLASH_END,
 * RUN_USER_CODE, esptool's watchdog reset with and without USB force-download, and EN pulses.
 */
import { describe, expect, it } from 'vitest';
import {
  attach,
  command,
  OP,
  SYNC,
  startStub,
  status,
  vectors,
  virtualChips,
  waitForLog,
  words,
} from './esp-rom.test-helper.js';

const { chip } = virtualChips();

describe('resets: how the virtual chip leaves download mode (docs/esp-rom.md "Leaving download mode")', () => {
  it('ROM: FLASH_END (either word) leaves the loader and boots from flash', async () => {
    const c = await chip();
    await c.ask(attach);
    expect(status(await c.ask(command(OP.FLASH_END!, words(1))), 4)).toBe('00000000');
    await waitForLog(c.board, 'booting from flash');
  });

  it('stub: FLASH_DEFL_END(1) stays in the stub; FLASH_END(0) reboots into the firmware', async () => {
    const c = await chip();
    await startStub(c);
    expect(status(await c.ask(command(OP.FLASH_DEFL_BEGIN!, words(0, 0, 0x4000, 0x10000))), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.FLASH_DEFL_END!, words(1))), 2)).toBe('0000');
    expect((await c.ask(SYNC))!.subarray(4, 8)).toEqual(words(0)); // still the stub: value 0
    for (let i = 0; i < 7; i++) await c.frames.next();
    expect(status(await c.ask(command(OP.FLASH_BEGIN!, words(0, 0, 0x4000, 0x10000))), 2)).toBe('0000');
    expect(status(await c.ask(command(OP.FLASH_END!, words(0))), 2)).toBe('0000');
    await waitForLog(c.board, 'booting from flash');
  });

  it('stub: RUN_USER_CODE boots without a reply', async () => {
    const c = await chip();
    await startStub(c);
    await c.send(command(OP.RUN_USER_CODE!));
    await waitForLog(c.board, 'booting from flash');
    expect(await c.frames.next(100)).toBeUndefined();
  });

  const writeReg = (addr: number, value: number, mask = 0xffffffff) =>
    command(OP.WRITE_REG!, words(addr, value, mask, 0));

  it("esptool's RTC-watchdog reset: every write answered, then the chip resets into its firmware", async () => {
    for (const stub of [false, true]) {
      const c = await chip();
      if (stub) await startStub(c);
      for (const [addr, value] of vectors.reset.watchdogReset)
        expect(status(await c.ask(writeReg(addr, value)), stub ? 2 : 4)).toMatch(/^0+$/);
      await waitForLog(c.board, 'booting from flash');
    }
  });

  it('the watchdog reset with USB force-download set (RTC_CNTL_OPTION1 bit 0) restarts the ROM loader instead', async () => {
    const c = await chip();
    await startStub(c);
    await c.ask(
      writeReg(vectors.reset.OPTION1, vectors.reset.FORCE_DOWNLOAD_BOOT, vectors.reset.FORCE_DOWNLOAD_BOOT),
    );
    for (const [addr, value] of vectors.reset.watchdogReset) await c.ask(writeReg(addr, value));
    await new Promise((r) => setTimeout(r, 100)); // 2000 slow-clock cycles ≈ 15 ms
    const reply = await c.ask(SYNC);
    expect(reply!.subarray(4, 8)).not.toEqual(words(0)); // the ROM again: a non-zero SYNC value…
    expect(status(reply, 4)).toBe('00000000'); // …and its 4-byte status
    expect(c.board.log()).not.toContain('booting from flash');
  });

  it('EN pulses (no modem lines on a PTY: SIGUSR2 / SIGUSR1): GPIO0 low restarts the ROM, high boots', async () => {
    const c = await chip();
    await startStub(c);
    c.board.reset('download');
    await new Promise((r) => setTimeout(r, 100));
    const reply = await c.ask(SYNC);
    expect(status(reply, 4)).toBe('00000000');
    for (let i = 0; i < 7; i++) await c.frames.next();
    c.board.reset('boot');
    await waitForLog(c.board, 'booting from flash');
  });
});
