import { TinypipeError } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { loadSerialPort } from './load.js';

describe('loadSerialPort', () => {
  it('loads serialport when it is installed', async () => {
    const m = await loadSerialPort();
    expect(typeof m.SerialPort).toBe('function');
  });

  it('is ENVIRONMENT, naming the install command, when the package is missing', async () => {
    const e = await loadSerialPort('serialport-not-installed-here').catch((x: unknown) => x);
    expect(TinypipeError.hasCode(e, 'ENVIRONMENT')).toBe(true);
    expect((e as Error).message).toContain('npm i serialport');
  });
});
