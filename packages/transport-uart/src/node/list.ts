/**
 * `listSerialPorts`: the serial devices this machine has, with USB ids, and which look like an ESP32-S3
 * (its built-in USB-JTAG-serial, or the CP210x / CH34x bridges on DevKitC boards).
 *
 * On Linux the list is read from sysfs ourselves: `serialport`'s Linux lister runs `udevadm`, which is
 * missing in many containers and CI images — and its spawn failure is an unhandled 'error' event that
 * ends the process. Elsewhere `SerialPort.list()` is used.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { loadSerialPort } from './load.js';

export interface SerialPortInfo {
  path: string;
  /** USB vendor and product id, lower-case hex (undefined for non-USB ports). */
  vendorId?: string | undefined;
  productId?: string | undefined;
  manufacturer?: string | undefined;
  product?: string | undefined;
  serialNumber?: string | undefined;
  /** What the USB id says, when it is one of the usual ESP32-S3 paths. */
  chip?: string | undefined;
  likelyEsp32s3: boolean;
}

/** USB ids of ESP32-S3 connections (vendor:product → what it is). */
export const ESP32S3_USB_IDS: Readonly<Record<string, string>> = {
  '303a:1001': 'ESP32-S3 USB-JTAG-serial (built in)',
  '303a:0002': 'ESP32-S3 USB OTG (TinyUSB CDC)',
  '10c4:ea60': 'CP210x USB-UART bridge',
  '1a86:7523': 'CH340 USB-UART bridge',
  '1a86:55d3': 'CH343 USB-UART bridge',
};

export function describeUsb(
  vendorId?: string,
  productId?: string,
): Pick<SerialPortInfo, 'chip' | 'likelyEsp32s3'> {
  const chip =
    vendorId && productId
      ? ESP32S3_USB_IDS[`${vendorId.toLowerCase()}:${productId.toLowerCase()}`]
      : undefined;
  return { chip, likelyEsp32s3: chip !== undefined };
}

const read = (file: string): string | undefined => {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Linux: /sys/class/tty/<name>/device → walk up to the USB device that has idVendor. */
export function listFromSysfs(sysClassTty = '/sys/class/tty', dev = '/dev'): SerialPortInfo[] {
  const out: SerialPortInfo[] = [];
  let names: string[];
  try {
    names = readdirSync(sysClassTty);
  } catch {
    return out;
  }
  for (const name of names.sort()) {
    let device: string;
    try {
      device = realpathSync(join(sysClassTty, name, 'device'));
    } catch {
      continue; // virtual terminals have no device
    }
    if (/serial8250/.test(device) && !/ttyS[0-3]$/.test(name)) continue; // unused legacy UART slots
    let usb: string | undefined;
    for (let d = device; d !== '/' && d.length > 1; d = join(d, '..')) {
      if (read(join(d, 'idVendor'))) {
        usb = d;
        break;
      }
    }
    const vendorId = usb ? read(join(usb, 'idVendor')) : undefined;
    const productId = usb ? read(join(usb, 'idProduct')) : undefined;
    out.push({
      path: join(dev, name),
      vendorId,
      productId,
      manufacturer: usb ? read(join(usb, 'manufacturer')) : undefined,
      product: usb ? read(join(usb, 'product')) : undefined,
      serialNumber: usb ? read(join(usb, 'serial')) : undefined,
      ...describeUsb(vendorId, productId),
    });
  }
  return out;
}

export async function listSerialPorts(): Promise<SerialPortInfo[]> {
  if (process.platform === 'linux') return listFromSysfs();
  const { SerialPort } = await loadSerialPort();
  const ports = await SerialPort.list();
  return ports.map((p) => ({
    path: p.path,
    vendorId: p.vendorId?.toLowerCase(),
    productId: p.productId?.toLowerCase(),
    manufacturer: p.manufacturer,
    product: undefined,
    serialNumber: p.serialNumber,
    ...describeUsb(p.vendorId, p.productId),
  }));
}
