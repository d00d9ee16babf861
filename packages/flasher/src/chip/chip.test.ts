/**
 * The register procedures against a fake register file, checked with docs/vectors/esp-rom.json: the
 * flash-ID sequence (command phase set, W0 cleared, USR/USR2 restored), esptool's size table, the
 * USB-Serial/JTAG watchdog writes, the force-download clear.
 */
import { describe, expect, it } from 'vitest';
import { bytes, scenario, vectors } from '../testing/vectors.test-helper.js';
import { FLASH_SIZES, flashSizeFromId, readFlashId } from './flash-id.js';
import {
  clearForceDownloadBoot,
  disableWatchdogs,
  type Registers,
  readMac,
  SPI_CMD_USR,
  SPI1,
} from './registers.js';

/** A register file: remembers writes (honouring the mask), logs every access; `onWrite` models a peripheral. */
function registerFile(
  initial: Record<number, number> = {},
  onWrite?: (r: Map<number, number>, a: number) => void,
) {
  const regs = new Map<number, number>(Object.entries(initial).map(([a, v]) => [Number(a), v]));
  const log: string[] = [];
  const file: Registers = {
    async readReg(a) {
      log.push(`R ${a.toString(16)}`);
      return regs.get(a) ?? 0;
    },
    async writeReg(a, value, mask = 0xffffffff) {
      log.push(
        `W ${a.toString(16)} ${(value >>> 0).toString(16)}${mask === 0xffffffff ? '' : ` mask ${mask.toString(16)}`}`,
      );
      regs.set(a, (((regs.get(a) ?? 0) & ~mask) | (value & mask)) >>> 0);
      onWrite?.(regs, a);
    },
  };
  return { file, regs, log };
}

/** The scenario's READ_REG / WRITE_REG steps as the same log lines. */
function logOf(name: string): string[] {
  return scenario(name).steps.map((s) => {
    const p = bytes(s.send);
    const v = new DataView(p.buffer);
    const addr = v.getUint32(8, true).toString(16);
    return p[1] === 0x0a ? `R ${addr}` : `W ${addr} ${v.getUint32(12, true).toString(16)}`;
  });
}

/** SPI1 with a flash chip behind it: on CMD.USR it runs RDID if the command phase is on. */
function spiFlash(jedec: number, initial: Record<number, number> = {}) {
  return registerFile(
    { [SPI1.USR]: 0x1234, [SPI1.USR2]: 0x5678, [SPI1.W0]: 0xdeadbeef, ...initial },
    (regs, a) => {
      if (a !== SPI1.CMD || !((regs.get(a) ?? 0) & SPI_CMD_USR)) return;
      const usr = regs.get(SPI1.USR) ?? 0;
      const command = usr & (1 << 31) && ((regs.get(SPI1.USR2) ?? 0) & 0xff) === 0x9f;
      if (usr & (1 << 28)) regs.set(SPI1.W0, command ? jedec : 0xffffff);
      regs.set(SPI1.CMD, 0); // done at once
    },
  );
}

describe('flash ID through SPI1', () => {
  it("sends exactly the vectors' register sequence (command phase + MISO, W0 cleared) and restores USR/USR2", async () => {
    const { file, log, regs } = spiFlash(0x1840ef, { [SPI1.USR]: 0, [SPI1.USR2]: 0 });
    expect(await readFlashId(file)).toBe(0x1840ef);
    expect(log).toEqual(logOf('Flash ID: RDID with the command phase and MISO set'));
    const saved = spiFlash(0x1840ef);
    await readFlashId(saved.file);
    expect([saved.regs.get(SPI1.USR), saved.regs.get(SPI1.USR2)]).toEqual([0x1234, 0x5678]);
    expect(regs.get(SPI1.W0)).toBe(0x1840ef);
  });

  it('a start bit that never clears is an error, not a made-up id', async () => {
    const stuck = registerFile({}, (regs, a) => {
      if (a === SPI1.CMD) regs.set(a, SPI_CMD_USR);
    });
    await expect(readFlashId(stuck.file)).rejects.toMatchObject({ code: 'FLASH_FAILED' });
    expect(stuck.log.filter((l) => l === `R ${SPI1.CMD.toString(16)}`)).toHaveLength(10);
  });

  it("sizes come from esptool's table, not 2^capacity", () => {
    expect(
      Object.fromEntries(Object.entries(FLASH_SIZES).map(([k, v]) => [`0x${Number(k).toString(16)}`, v])),
    ).toEqual(vectors.flashId.sizes);
    for (const [size, id] of Object.entries(vectors.flashId.boardFlashId))
      expect(flashSizeFromId(id as number)).toBe(Number(size));
    expect(flashSizeFromId(0x3940c8)).toBe(32 * 1048576); // capacity 0x39: 2^57 by the old rule
    expect(flashSizeFromId(0x2040ef)).toBe(64 * 1048576);
    expect(flashSizeFromId(0x0000ef)).toBeUndefined();
    expect(flashSizeFromId(0x00081f)).toBe(8 * 1048576); // Adesto: low 5 bits of the second byte
  });
});

describe('USB-Serial/JTAG: watchdogs and force-download', () => {
  it("writes the vectors' watchdog sequence (SWD_CONF read-modify-write keeps its other bits)", async () => {
    const { file, log } = registerFile();
    await disableWatchdogs(file);
    const writes = log
      .filter((l) => l.startsWith('W'))
      .map((l) =>
        l
          .split(' ')
          .slice(1)
          .map((x) => Number.parseInt(x, 16)),
      );
    expect(writes).toEqual(vectors.reset.disableWatchdogs);
    const busy = registerFile({ [vectors.reset.rtcWdt.SWD_CONF]: 0x1234 });
    await disableWatchdogs(busy.file);
    expect(busy.regs.get(vectors.reset.rtcWdt.SWD_CONF)).toBe((0x1234 | 0x80000000) >>> 0);
  });

  it('clears only the force-download-boot bit of OPTION1', async () => {
    const { file, regs, log } = registerFile({ [vectors.reset.OPTION1]: 0xf1 });
    await clearForceDownloadBoot(file);
    expect(log).toEqual([
      `W ${vectors.reset.OPTION1.toString(16)} 0 mask ${vectors.reset.FORCE_DOWNLOAD_BOOT}`,
    ]);
    expect(regs.get(vectors.reset.OPTION1)).toBe(0xf0);
  });

  it('reads the base MAC from its two eFuse words', async () => {
    const [mac0, mac1] = vectors.chip.macRegs as number[];
    const { file } = registerFile({ [mac0!]: 0xccddeeff, [mac1!]: 0x0000aabb });
    expect(await readMac(file)).toBe('aa:bb:cc:dd:ee:ff');
  });
});
