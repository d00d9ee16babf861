import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { firmwareRoot } from './build.js';

const port = join(firmwareRoot(), 'ports', 'esp-idf');

describe('ESP-IDF port (what can be checked without ESP-IDF)', () => {
  // check.sh: requirements as IDF's early pass reads them, the app against each version's component layout
  // in every topology, the refusals, the sdkconfig option names, the Xtensa build of the core
  let out = '';
  beforeAll(() => {
    out = execFileSync(join(port, 'check.sh'), { encoding: 'utf8' });
  }, 120_000);

  it('picks the UART driver component each IDF version has, and the app compiles against its layout', () => {
    for (const v of ['5.1', '5.2'])
      expect(out).toContain(`IDF ${v}: requires tinypipe esp_partition esp_timer driver; the app compiles`);
    for (const v of ['5.3', '5.4', '5.5', '6.0', '6.1', '6.2'])
      expect(out).toContain(
        `IDF ${v}: requires tinypipe esp_partition esp_timer esp_driver_uart; the app compiles`,
      );
    expect(out).toContain('esp-idf glue: compiles against the stubs');
  });

  it('compiles the standalone ring roles (docs/protocol.md §4.5): board 0, the other boards, a ring of one', () => {
    for (const v of ['5.1', '5.2', '5.3', '5.4', '5.5', '6.0', '6.1', '6.2'])
      expect(out).toMatch(
        new RegExp(`IDF ${v}: requires .*; the app compiles \\(.*; ring board 0, other, alone\\)`),
      );
    const overlay = (name: string) => readFileSync(join(port, `sdkconfig.defaults.${name}`), 'utf8');
    expect(overlay('ring-first')).toMatch(/^CONFIG_TINYPIPE_RING_DRIVER=y$/m);
    expect(overlay('ring-next')).toMatch(/^CONFIG_TINYPIPE_CHAIN_ROLE_RING=y$/m);
    expect(overlay('ring-next')).not.toMatch(/RING_DRIVER/);
    expect(overlay('ring-alone')).toMatch(/^CONFIG_TINYPIPE_RING_ALONE=y$/m);
  });

  it('refuses at compile time a console on a protocol UART, and the old `driver` requirement on IDF 6', () => {
    expect(out).toContain(
      'refused at compile time: the console on a protocol UART (star, chain first, chain last, ring), up = down, REQUIRES driver on IDF 6',
    );
  });

  it('sets the console off UART0 and the flash to QIO, with real Kconfig options only', () => {
    const defaults = readFileSync(join(port, 'sdkconfig.defaults'), 'utf8');
    expect(defaults).toMatch(/^CONFIG_ESP_CONSOLE_USB_SERIAL_JTAG=y$/m);
    expect(defaults).toMatch(/^CONFIG_ESPTOOLPY_FLASHMODE_QIO=y$/m);
    expect(readFileSync(join(port, 'sdkconfig.defaults.octal-flash'), 'utf8')).toMatch(
      /^CONFIG_ESPTOOLPY_OCT_FLASH=y$/m,
    );
    expect(out).toContain('sdkconfig.defaults*: every option is a real Kconfig option');
  });

  it('compiles the portable core for Xtensa with -Werror', () => {
    expect(out).toMatch(/xtensa smoke build: \d+ objects/);
  });
});
