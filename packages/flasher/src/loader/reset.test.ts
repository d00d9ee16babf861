import { createTransportPair } from '@tinypipe/protocol';
import { describe, expect, it } from 'vitest';
import { canReset, resetIntoBootloader } from './reset.js';

describe('resetIntoBootloader', () => {
  it('holds EN (RTS) then releases it with GPIO0 (DTR) low on a USB-UART bridge', async () => {
    const [t] = createTransportPair();
    const seen: string[] = [];
    const port = Object.assign(t, {
      setSignals: async (s: { dtr?: boolean; rts?: boolean }) => {
        seen.push(`dtr=${s.dtr ? 1 : 0} rts=${s.rts ? 1 : 0}`);
      },
    });
    expect(canReset(port)).toBe(true);
    await resetIntoBootloader(port, 'bridge');
    expect(seen).toEqual(['dtr=0 rts=1', 'dtr=1 rts=0', 'dtr=0 rts=0']);
    seen.length = 0;
    await resetIntoBootloader(port, 'usb-jtag-serial');
    expect(seen[0]).toBe('dtr=0 rts=0');
    expect(seen.at(-1)).toBe('dtr=0 rts=0');
    expect(seen).toContain('dtr=1 rts=0');
  });

  it('a transport without modem lines cannot reset', () => {
    const [t] = createTransportPair();
    expect(canReset(t)).toBe(false);
  });
});
