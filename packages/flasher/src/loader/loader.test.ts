/**
 * EspLoader played against docs/vectors/esp-rom.json scenarios: each test's loader must send exactly the
 * scenario's commands (byte for byte) and read its answers in the form of the loader that sent them.
 */
import { TinypipeError, type Transport } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { Op } from '../protocol/commands.js';
import { type Scripted, type Step, scenario, scripted, vectors } from '../testing/vectors.test-helper.js';
import { EspLoader } from './loader.js';

/** A transport whose writes never complete and which never answers: a driver that lost a write callback. */
function stuckTransport(): Transport {
  return {
    specificationVersion: 1,
    readable: new ReadableStream<Uint8Array>(),
    writable: new WritableStream<Uint8Array>({ write: () => new Promise<void>(() => {}) }),
    close: async () => {},
  };
}

const erased4k = '6ae59e64850377ee5470c854761551ea';
/** The stub the vectors upload: 16 bytes at 0x40378000, entry 0x40378004. */
const vectorStub = {
  entry: 0x40378004,
  segments: [{ address: 0x40378000, bytes: Uint8Array.from({ length: 16 }, (_, i) => i) }],
  source: 'the vectors',
};

function play(steps: Step[], options: { timeoutMs?: number; blockSize?: number } = {}) {
  const t = scripted(steps);
  return { t, loader: new EspLoader(t, '/dev/ttyTEST', { timeoutMs: 300, ...options }) };
}

/** Everything was sent as the scenario says, and nothing else. */
function played(t: Scripted, steps: Step[]) {
  expect(t.sent).toEqual(steps.map((s) => s.send));
  expect(t.remaining()).toEqual([]);
}

const failure = async (p: Promise<unknown>) => {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  if (!TinypipeError.isInstance(e)) throw new Error(`expected a TinypipeError, got ${String(e)}`);
  return e;
};

const upload = scenario('Stub upload: MEM_BEGIN/MEM_DATA/MEM_END with an entry point, then OHAI').steps;

describe('EspLoader: which loader answers', () => {
  it('the ROM: 8 SYNC answers with a non-zero value, read as one', async () => {
    const steps = scenario('ROM answers SYNC 8 times with a non-zero value and a 4-byte status').steps;
    const { t, loader } = play(steps);
    expect(await loader.sync()).toBe('rom');
    expect(loader.kind).toBe('rom');
    played(t, steps);
  });

  it('a stub already running: SYNC value 0', async () => {
    const s = scenario('Stub answers SYNC 8 times with value 0 and a 2-byte status');
    const steps = s.steps.filter((x) => x.send.startsWith('0008'));
    const { t, loader } = play(steps);
    expect(await loader.sync()).toBe('stub');
    expect(loader.blockSize).toBe(0x4000);
    played(t, steps);
  });

  it('the chip from GET_SECURITY_INFO (ESP32-S3 = 9)', async () => {
    const steps = scenario('ROM GET_SECURITY_INFO: 20 bytes, chip id 9').steps;
    const { t, loader } = play(steps);
    expect(await loader.chip()).toEqual({ id: 9, name: 'ESP32-S3' });
    played(t, steps);
  });
});

describe('EspLoader against the ROM', () => {
  it('SPI_ATTACH (2 words), SPI_SET_PARAMS, then MD5 as 32 ASCII hex characters', async () => {
    const steps = scenario('ROM SPI_FLASH_MD5 answers 32 ASCII hex characters (an erased 4 KiB)').steps;
    const { t, loader } = play(steps);
    await loader.attachFlash();
    await loader.setFlashParams(16 * 1048576);
    expect(await loader.md5(0, 0x1000)).toBe(erased4k);
    played(t, steps);
  });

  it('a flash command before SPI_ATTACH is an error naming ROM error 0x06, never a success', async () => {
    const steps = scenario('ROM refuses flash commands before SPI_ATTACH').steps;
    const { t, loader } = play(steps);
    // 1000 zeros: one compressed block; BEGIN size rounded to 0x400, 5 words, as the vector sends
    const e = await failure(loader.write(0x10000, new Uint8Array(1000)));
    expect(e.code).toBe('FLASH_FAILED');
    expect(e.message).toMatch(
      /\/dev\/ttyTEST: FLASH_DEFL_BEGIN failed: ROM error 0x06 \(.*\): the ROM takes flash commands only after SPI_ATTACH/,
    );
    expect(e.details).toMatchObject({ op: Op.FLASH_DEFL_BEGIN, kind: 'rom', error: 6, status: [1, 6, 0, 0] });
    const md5 = await failure(loader.md5(0, 0x1000));
    expect(md5.message).toMatch(/SPI_FLASH_MD5 failed: ROM error 0x06/);
    played(t, steps);
  });

  it('a stub-only command is refused by the ROM with 0x05 and said so', async () => {
    const steps = scenario('ROM does not know ERASE_REGION (stub only)').steps;
    const { t, loader } = play(steps);
    await loader.attachFlash();
    const e = await failure(
      loader.command(Op.ERASE_REGION, new Uint8Array(Buffer.from(steps[1]!.send.slice(16), 'hex'))),
    );
    expect(e.message).toMatch(/ERASE_REGION failed: ROM error 0x05 .*ERASE_REGION is a stub command/);
    played(t, steps);
  });

  it('CHANGE_BAUDRATE with 0 as the second word; the line switches after the answer, 50 ms before the next command', async () => {
    const steps = scenario('ROM CHANGE_BAUDRATE: new baud, 0').steps;
    const { t, loader } = play(steps);
    const started = performance.now();
    await loader.changeBaud(460_800);
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
    expect(t.baudRate).toBe(460_800);
    played(t, steps);
  });

  it('the USB-Serial/JTAG watchdog writes', async () => {
    const steps = scenario('ROM accepts the USB-Serial/JTAG watchdog writes esptool makes').steps;
    // esptool reads SWD_CONF before setting its auto-feed bit; the vectors' board reads 0 there
    const read = { send: '000a0400000000' + '00b4800060', expect: ['010a04000000000000000000'] };
    const all = [...steps.slice(0, 4), read, ...steps.slice(4)];
    const { t, loader } = play(all);
    await loader.disableWatchdogs();
    played(t, all);
  });

  it('flash ID with the command phase; 16 MiB from the table', async () => {
    const steps = scenario('Flash ID: RDID with the command phase and MISO set').steps;
    const { t, loader } = play(steps);
    expect(await loader.flashSize()).toEqual({ id: 0x1840ef, bytes: 16 * 1048576 });
    played(t, steps);
  });

  it("answers in the stub's 2-byte form are not taken for a ROM's", async () => {
    const { loader } = play([{ send: '000a04000000000000100040', expect: ['010a020009000000' + '0000'] }]);
    const e = await failure(loader.readReg(0x40001000));
    expect(e.message).toMatch(/READ_REG answered with 2 body bytes, fewer than the rom's 4 status bytes/);
  });

  it('a refusal carrying another op (some ROMs answer an unknown command so) fails the command', async () => {
    const { loader } = play([{ send: '0055000000000000', expect: ['010804000000000001050000'] }]);
    const e = await failure(loader.command(0x55, new Uint8Array(0)));
    expect(e.message).toMatch(/0x55 failed: ROM error 0x05 .*\(answered as SYNC\)/);
  });
});

describe('EspLoader with a stub', () => {
  it("uploads it (MEM_BEGIN, MEM_DATA, MEM_END with the entry), waits for OHAI, then speaks the stub's form", async () => {
    const steps = scenario('Stub: no SPI_ATTACH needed, MD5 as 16 raw bytes').steps;
    const { t, loader } = play(steps);
    await loader.runStub(vectorStub);
    expect(loader.kind).toBe('stub');
    await loader.attachFlash(); // nothing to send: the stub attaches the flash itself
    expect(await loader.md5(0, 0x1000)).toBe(erased4k);
    played(t, steps);
  });

  it('no OHAI: an error that says what to do', async () => {
    const steps = upload.map((s) => (s.send.startsWith('0006') ? { ...s, expect: [s.expect[0]!] } : s));
    const { loader } = play(steps);
    const e = await failure(loader.runStub(vectorStub));
    expect(e.message).toMatch(
      /stub from the vectors did not start \(no OHAI within 300 ms\).*without --stub/,
    );
    expect(loader.kind).toBe('rom');
  });

  it("the ROM's MEM_END answer may be lost (the stub resets the UART): OHAI is enough", async () => {
    const steps = upload.map((s) =>
      s.send.startsWith('0006') ? { ...s, expect: [vectors.stub.greeting] } : s,
    );
    const { loader } = play(steps);
    await loader.runStub(vectorStub);
    expect(loader.kind).toBe('stub');
  });

  it("stub refusals name the stub's code", async () => {
    const steps = scenario(
      'Stub: ERASE_REGION (sector aligned; unaligned is bad data length), unknown op not implemented, data outside flash mode refused',
    ).steps;
    const { loader } = play(steps);
    await loader.runStub(vectorStub);
    await loader.command(Op.ERASE_REGION, new Uint8Array(Buffer.from(steps[3]!.send.slice(16), 'hex')));
    const e = await failure(
      loader.command(Op.ERASE_REGION, new Uint8Array(Buffer.from(steps[4]!.send.slice(16), 'hex'))),
    );
    expect(e.message).toMatch(/ERASE_REGION failed: stub error 0xc0 \(bad data length\)/);
  });

  it('CHANGE_BAUDRATE with the old rate as the second word', async () => {
    const steps = scenario('Stub CHANGE_BAUDRATE: new baud, old baud').steps;
    const { t, loader } = play(steps);
    await loader.runStub(vectorStub);
    await loader.changeBaud(921_600);
    expect(t.baudRate).toBe(921_600);
    played(t, steps);
  });

  it('a compressed write: 4-word BEGIN with the exact size, 16 KiB blocks', async () => {
    const s = scenario(
      'Stub: FLASH_DEFL_BEGIN with 4 words and the exact size, 16 KiB blocks, FLASH_DEFL_END(1) stays in the stub',
    );
    const begin = s.steps.find((x) => x.send.startsWith('0010'))!;
    const { t, loader } = play([...upload, begin]);
    await loader.runStub(vectorStub);
    // 16 KiB of one byte at 0x20000: the size word exact (0x4000), one block; the block itself is our
    // compressor's, not the vector's, so it goes unanswered
    const e = await failure(loader.write(0x20000, new Uint8Array(0x4000).fill(0x5a)));
    expect(e.code).toBe('TIMEOUT');
    expect(t.sent[upload.length]).toBe(begin.send);
    expect(t.sent.slice(upload.length + 1).every((x) => x.startsWith('0011'))).toBe(true);
  });
});

describe('EspLoader: leaving the loader', () => {
  it('no reset lines, ROM: FLASH_BEGIN of nothing, then FLASH_END asking to run the user code', async () => {
    const steps = scenario(
      'Leave the ROM in-band (no reset lines): FLASH_BEGIN of nothing, FLASH_END 1 = run user code',
    ).steps;
    const { t, loader } = play(steps);
    await loader.leave('none');
    played(t, steps);
    expect(t.signals).toEqual([]);
  });

  it('no reset lines, stub: FLASH_END 0, the reboot the stub takes', async () => {
    const steps = scenario(
      'Leave the stub in-band (no reset lines): FLASH_BEGIN of nothing, FLASH_END 0 = reboot (the stub ignores 1)',
    ).steps;
    const { t, loader } = play(steps);
    await loader.runStub(vectorStub);
    await loader.leave('none');
    played(t, steps);
  });

  it('a USB-UART bridge: a hard reset (EN pulsed through RTS, GPIO0 released), no command', async () => {
    const { t, loader } = play([]);
    const started = performance.now();
    await loader.leave('bridge');
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(t.signals).toEqual(vectors.flasher.hardReset.signals.filter((x: string) => !x.startsWith('wait')));
    expect(t.sent).toEqual([]);
  });

  it('USB-Serial/JTAG: force-download-boot cleared, then the hard reset — even when the write goes unanswered', async () => {
    const steps = scenario(
      'Before a hard reset over USB-Serial/JTAG: clear force-download-boot (WRITE_REG OPTION1, value 0, mask 1)',
    ).steps;
    const { t, loader } = play(steps);
    await loader.leave('usb-jtag-serial');
    played(t, steps);
    expect(t.signals).toEqual(['dtr=0 rts=1', 'dtr=0 rts=0']);
    const lost = play([], { timeoutMs: 50 });
    await lost.loader.leave('usb-jtag-serial');
    expect(lost.t.sent).toEqual([steps[0]!.send]);
    expect(lost.t.signals).toEqual(['dtr=0 rts=1', 'dtr=0 rts=0']);
  });
});

describe('EspLoader', () => {
  it('a write that never completes ends in TIMEOUT (the answer’s timer bounds it), not a hang', async () => {
    const loader = new EspLoader(stuckTransport(), '/dev/ttyFAKE', { timeoutMs: 50 });
    const e = await loader.command(Op.SYNC, new Uint8Array(36)).catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'TIMEOUT')).toBe(true);
    expect((e as Error).message).toMatch(/\/dev\/ttyFAKE: no answer to SYNC within 50 ms/);
  });
});

describe('EspLoader: a lost line', () => {
  it('rejects a pending MD5 of 16 MiB (a 134 s timeout) the moment the line closes', async () => {
    let line!: ReadableStreamDefaultController<Uint8Array>;
    const t: Transport = {
      specificationVersion: 1,
      readable: new ReadableStream<Uint8Array>({
        start: (c) => {
          line = c;
        },
      }),
      writable: new WritableStream<Uint8Array>(),
      close: async () => {},
    };
    const loader = new EspLoader(t, '/dev/ttyTEST');
    const pending = failure(loader.md5(0, 16 * 1048576));
    await new Promise((r) => setTimeout(r, 50));
    const closed = performance.now();
    line.error(new TinypipeError('PORT_DISCONNECTED', '/dev/ttyTEST went away'));
    const e = await pending;
    expect(e.code).toBe('PORT_DISCONNECTED');
    expect(performance.now() - closed).toBeLessThan(100);
    // and every later command says so at once
    expect((await failure(loader.readReg(0))).code).toBe('PORT_DISCONNECTED');
    // work between commands (compressing a write) stops too
    expect((await failure(loader.write(0x10000, new Uint8Array(4096)))).code).toBe('PORT_DISCONNECTED');
  });
});
