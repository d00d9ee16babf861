/**
 * Packet layouts, status bytes, MD5 forms and timeouts against docs/vectors/esp-rom.json (written from
 * Espressif's "Serial Protocol" docs and clients, not from this code).
 */
import { describe, expect, it } from 'vitest';
import { SlipDecoder, slipEncode } from '../slip/slip.js';
import { bytes, hex, type Scenario, scenario, vectors } from '../testing/vectors.test-helper.js';
import { checksum, decodePacket, encodeCommand, Op, SYNC_DATA } from './commands.js';
import {
  BLOCK_SIZE,
  changeBaudrate,
  deflBegin,
  flashBeginEmpty,
  flashEnd,
  memBegin,
  memEnd,
  parseMd5,
  RAM_BLOCK,
  spiAttach,
  spiSetParams,
} from './layouts.js';
import { describeError, ROM_ERRORS, readStatus, STATUS_BYTES, STUB_ERRORS } from './status.js';
import { beginTimeout, blockTimeout, md5Timeout } from './timing.js';

/** The step of a scenario whose command has this op (the n-th one). */
function step(s: Scenario, op: number, n = 0) {
  const found = s.steps.filter((x) => Number.parseInt(x.send.slice(2, 4), 16) === op)[n];
  if (!found) throw new Error(`${s.name}: no step ${n} with op ${op}`);
  return found;
}

describe('SLIP and packets', () => {
  it('frames and escapes as the vectors say; the decoder skips boot noise and joins chunks', () => {
    for (const e of vectors.slip.examples) expect(hex(slipEncode(bytes(e.packet)))).toBe(e.framed);
    const got: string[] = [];
    const d = new SlipDecoder((p) => got.push(hex(p)));
    d.push(Uint8Array.of(0x41, 0x42, 0xc0, 0x01, 0xdb));
    d.push(Uint8Array.of(0xdc, 0x02, 0xc0));
    expect(got).toEqual(['01c002']);
  });

  it('op numbers are the documented ones', () => {
    for (const [name, op] of Object.entries(Op)) expect(vectors.ops[name], name).toBe(op);
  });

  it('writes SYNC and checksums data blocks as documented', () => {
    expect(hex(encodeCommand(Op.SYNC, SYNC_DATA))).toBe(
      scenario('ROM answers SYNC 8 times with a non-zero value and a 4-byte status').steps[0]!.send,
    );
    for (const e of vectors.command.checksum.examples) expect(checksum(bytes(e.data))).toBe(e.checksum);
  });

  it('reads a response header; a non-response (the stub greeting, a command) is not one', () => {
    expect(decodePacket(bytes('010a04000900000000000000'))).toEqual({
      op: 0x0a,
      value: 9,
      body: bytes('00000000'),
    });
    expect(decodePacket(bytes(vectors.stub.greeting))).toBeUndefined();
    expect(decodePacket(bytes('000a04000000000000100040'))).toBeUndefined();
    expect(decodePacket(bytes('010a0400090000000000'))).toBeUndefined(); // shorter than its size
  });
});

describe('status bytes: the ROM sends 4 (status first), the stub 2', () => {
  it('counts', () => {
    expect(STATUS_BYTES).toEqual({ rom: vectors.rom.statusBytes, stub: vectors.stub.statusBytes });
  });

  it('a ROM refusal is a failure with its code; read as a stub (last 2 bytes) it would pass as success', () => {
    const refused = decodePacket(
      bytes(step(scenario('ROM refuses flash commands before SPI_ATTACH'), Op.FLASH_DEFL_BEGIN).expect[0]!),
    )!;
    expect(readStatus(refused.body, 'rom')).toMatchObject({ ok: false, code: 0x06 });
    expect(readStatus(refused.body, 'stub')!.ok).toBe(true); // the bug this layout fixes
    const ok = decodePacket(bytes('010d04000000000000000000'))!;
    expect(readStatus(ok.body, 'rom')).toMatchObject({ ok: true, code: 0, data: new Uint8Array(0) });
  });

  it('a stub refusal carries its 0xC* code first', () => {
    const s = scenario(
      'Stub: ERASE_REGION (sector aligned; unaligned is bad data length), unknown op not implemented, data outside flash mode refused',
    );
    const codes = s.steps.slice(3).map((x) => readStatus(decodePacket(bytes(x.expect[0]!))!.body, 'stub'));
    expect(codes.map((c) => [c!.ok, c!.code])).toEqual([
      [true, 0],
      [false, 0xc0],
      [false, 0xff],
      [false, 0xc6],
    ]);
  });

  it('a body shorter than the status bytes is not read as a status', () => {
    expect(readStatus(bytes('0000'), 'rom')).toBeUndefined();
  });

  it('names every documented error code', () => {
    for (const code of Object.keys(vectors.rom.errors)) expect(ROM_ERRORS[Number(code)], code).toBeDefined();
    for (const code of Object.keys(vectors.stub.errors))
      expect(STUB_ERRORS[Number(code)], code).toBeDefined();
    expect(describeError('rom', 0x05)).toMatch(/^ROM error 0x05 \(received message is malformed/);
    expect(describeError('stub', 0xc1)).toBe('stub error 0xc1 (bad data checksum)');
    expect(describeError('rom', 0x42)).toBe('ROM error 0x42');
  });
});

describe('payloads that differ between ROM and stub', () => {
  const cmd = (op: number, payload: Uint8Array) => hex(encodeCommand(op, payload));

  it('SPI_ATTACH: 2 words to the ROM, 1 to the stub', () => {
    const s = scenario("ROM SPI_ATTACH takes 2 words (the stub's 1-word form is refused)");
    expect(cmd(Op.SPI_ATTACH, spiAttach('rom'))).toBe(s.steps[1]!.send);
    expect(cmd(Op.SPI_ATTACH, spiAttach('stub'))).toBe(s.steps[0]!.send);
    expect(vectors.rom.spiAttachWords).toBe(2);
  });

  it("SPI_SET_PARAMS: esptool's fixed values and the flash size", () => {
    const s = scenario('ROM SPI_FLASH_MD5 answers 32 ASCII hex characters (an erased 4 KiB)');
    expect(cmd(Op.SPI_SET_PARAMS, spiSetParams(16 * 1048576))).toBe(step(s, Op.SPI_SET_PARAMS).send);
  });

  it('FLASH_DEFL_BEGIN: 5 words and the size rounded to 0x400 for the ROM; 4 words and the exact size for the stub', () => {
    const rom = deflBegin('rom', 1000, 300, 0x10000);
    expect(cmd(Op.FLASH_DEFL_BEGIN, rom.payload)).toBe(
      scenario("ROM FLASH_DEFL_BEGIN takes 5 words (the stub's 4-word form is refused)").steps[2]!.send,
    );
    expect(rom).toMatchObject({ blocks: 1, writeSize: 0x400 });
    expect(deflBegin('rom', 0x1001, 0x801, 0).writeSize).toBe(0x1400);
    expect(deflBegin('rom', 0x1001, 0x801, 0).blocks).toBe(3);
    const stub = deflBegin('stub', 0x4000, 0x198, 0x20000);
    expect(cmd(Op.FLASH_DEFL_BEGIN, stub.payload)).toBe(
      step(
        scenario(
          'Stub: FLASH_DEFL_BEGIN with 4 words and the exact size, 16 KiB blocks, FLASH_DEFL_END(1) stays in the stub',
        ),
        Op.FLASH_DEFL_BEGIN,
      ).send,
    );
    expect(BLOCK_SIZE).toEqual({ rom: vectors.rom.flashWriteBlock, stub: vectors.stub.flashWriteBlock });
    expect(vectors.rom.flashDeflBeginWords).toBe(5);
    expect(vectors.stub.flashDeflBeginWords).toContain(4);
  });

  it('CHANGE_BAUDRATE: new rate then 0 (ROM) or the old rate (stub)', () => {
    expect(cmd(Op.CHANGE_BAUDRATE, changeBaudrate('rom', 460_800, 115_200))).toBe(
      scenario('ROM CHANGE_BAUDRATE: new baud, 0').steps[0]!.send,
    );
    expect(cmd(Op.CHANGE_BAUDRATE, changeBaudrate('stub', 921_600, 115_200))).toBe(
      step(scenario('Stub CHANGE_BAUDRATE: new baud, old baud'), Op.CHANGE_BAUDRATE).send,
    );
  });

  it('stub upload: MEM_BEGIN in 0x1800 blocks, MEM_END with the entry (flag 0: run it)', () => {
    const s = scenario('Stub upload: MEM_BEGIN/MEM_DATA/MEM_END with an entry point, then OHAI');
    expect(RAM_BLOCK).toBe(vectors.rom.ramBlock);
    expect(cmd(Op.MEM_BEGIN, memBegin(16, 0x40378000))).toBe(s.steps[0]!.send);
    expect(cmd(Op.MEM_END, memEnd(0x40378004))).toBe(s.steps[2]!.send);
    expect(hex(memEnd(0))).toBe('0100000000000000');
  });

  it('FLASH_END: 0 reboots, 1 runs the user code; an empty FLASH_BEGIN as esptool run() sends it', () => {
    expect(hex(flashEnd('reboot'))).toBe('00000000');
    expect(hex(flashEnd('run'))).toBe('01000000');
    expect(hex(flashBeginEmpty('rom'))).toBe('00000000' + '00000000' + '00040000' + '00000000' + '00000000');
    expect(hex(flashBeginEmpty('stub'))).toBe('00000000' + '00000000' + '00400000' + '00000000');
  });
});

describe('SPI_FLASH_MD5 answers', () => {
  const erased4k = '6ae59e64850377ee5470c854761551ea';
  it('the ROM: 32 ASCII hex characters', () => {
    const s = scenario('ROM SPI_FLASH_MD5 answers 32 ASCII hex characters (an erased 4 KiB)');
    const r = readStatus(decodePacket(bytes(step(s, Op.SPI_FLASH_MD5).expect[0]!))!.body, 'rom')!;
    expect(r.data.length).toBe(vectors.rom.md5.bytes);
    expect(parseMd5('rom', r.data)).toBe(erased4k);
    expect(parseMd5('stub', r.data)).toBeUndefined();
  });
  it('the stub: 16 raw bytes', () => {
    const s = scenario('Stub: no SPI_ATTACH needed, MD5 as 16 raw bytes');
    const r = readStatus(decodePacket(bytes(step(s, Op.SPI_FLASH_MD5).expect[0]!))!.body, 'stub')!;
    expect(r.data.length).toBe(vectors.stub.md5.bytes);
    expect(parseMd5('stub', r.data)).toBe(erased4k);
    expect(parseMd5('rom', r.data)).toBeUndefined();
    expect(parseMd5('rom', new TextEncoder().encode('z'.repeat(32)))).toBeUndefined();
  });
});

describe("timeouts (esptool's figures)", () => {
  it('the ROM erases before answering FLASH_DEFL_BEGIN: 40 s/MB; the stub answers at once', () => {
    expect(beginTimeout('rom', 8_600_000)).toBe(344_000);
    expect(beginTimeout('rom', 0x400)).toBe(3000);
    expect(beginTimeout('stub', 8_600_000)).toBe(3000);
  });
  it('blocks: the bytes written at 40 s/MB; the stub adds the 64 KiB erases it may start', () => {
    expect(blockTimeout('rom', 1_000_000)).toBe(40_000);
    expect(blockTimeout('rom', 0x400)).toBe(3000);
    // 1 MB inflated by the stub: ceil(1e6 / 32 KiB) + 1 = 32 erases of 64 KiB
    expect(blockTimeout('stub', 1_000_000)).toBe(Math.ceil((40 * (1_000_000 + 32 * 65536)) / 1000));
  });
  it('MD5: 8 s/MB, at least the ordinary timeout', () => {
    expect(md5Timeout(8_600_000)).toBe(68_800);
    expect(md5Timeout(100, 500)).toBe(500);
  });
});
