/**
 * Getting an ESP32-S3 into its serial bootloader without touching it. Two wirings exist (facts from
 * Espressif's esptool documentation, "Boot mode selection"):
 *  - a USB-UART bridge (CP210x, CH34x) whose DTR drives GPIO0 and RTS drives EN through two transistors:
 *    RTS asserted holds the chip in reset, DTR asserted pulls GPIO0 low; releasing reset with GPIO0 low
 *    boots the ROM downloader;
 *  - the S3's built-in USB-JTAG-serial, where the same line changes are decoded by the chip itself, in a
 *    slightly different order.
 * Transports without modem lines (a PTY, TCP) skip this: the board must already be in download mode.
 * `hardReset` is how esptool leaves the loader afterwards (its default `--after hard-reset`).
 */
import type { Transport } from '@tinypipe/protocol';

/** How a board's reset and boot lines are wired to the host; 'none': no modem lines (PTY, TCP, virtual boards). */
export type ResetWiring = 'bridge' | 'usb-jtag-serial' | 'none';

/** Both lines every time: serialport's `set` takes an unnamed line as asserted. */
export interface WithSignals {
  setSignals(signals: { dtr?: boolean; rts?: boolean }): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function canReset(t: Transport): t is Transport & WithSignals {
  return typeof (t as Partial<WithSignals>).setSignals === 'function';
}

/** Resets into the bootloader: the USB-UART bridge sequence, or the USB-JTAG-serial one. */
export async function resetIntoBootloader(
  t: Transport & WithSignals,
  kind: 'bridge' | 'usb-jtag-serial',
): Promise<void> {
  if (kind === 'bridge') {
    await t.setSignals({ dtr: false, rts: true }); // EN low: in reset
    await sleep(100);
    await t.setSignals({ dtr: true, rts: false }); // GPIO0 low, EN released: boots the downloader
    await sleep(50);
    await t.setSignals({ dtr: false, rts: false });
    return;
  }
  await t.setSignals({ dtr: false, rts: false });
  await sleep(100);
  await t.setSignals({ dtr: true, rts: false });
  await sleep(100);
  await t.setSignals({ dtr: false, rts: true });
  await t.setSignals({ dtr: false, rts: true });
  await sleep(100);
  await t.setSignals({ dtr: false, rts: false });
}

/**
 * Runs the flashed firmware: EN pulsed low through RTS for 100 ms with GPIO0 (DTR) released, so the chip
 * boots from flash (esptool HardReset, the non-USB-OTG case — the S3's USB-Serial/JTAG decodes RTS as
 * reset the same way). On USB-Serial/JTAG the loader clears force-download-boot first (`../chip`).
 */
export async function hardReset(t: Transport & WithSignals): Promise<void> {
  await t.setSignals({ dtr: false, rts: true }); // EN low
  await sleep(100);
  await t.setSignals({ dtr: false, rts: false }); // EN released, GPIO0 high: boots the app
}
