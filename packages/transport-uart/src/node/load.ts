/**
 * `serialport` is an optional peer dependency (a native addon: browser and TCP users never install it).
 * The `./node` entry loads it when a port is first opened or listed; without it, that is an ENVIRONMENT
 * error that says how to install it.
 */
import { TinypipeError } from '@tinypipe/protocol';

type SerialPortModule = typeof import('serialport');

let loading: Promise<SerialPortModule> | undefined;

/** `import('serialport')`, or ENVIRONMENT when it is not installed. `specifier` is for tests. */
export function loadSerialPort(specifier = 'serialport'): Promise<SerialPortModule> {
  if (specifier !== 'serialport') return importSerialPort(specifier);
  loading ??= importSerialPort(specifier).catch((e: unknown) => {
    loading = undefined;
    throw e;
  });
  return loading;
}

async function importSerialPort(specifier: string): Promise<SerialPortModule> {
  try {
    return (await import(specifier)) as SerialPortModule;
  } catch (cause) {
    const code = (cause as { code?: unknown })?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')
      throw new TinypipeError(
        'ENVIRONMENT',
        'serial ports in Node need the serialport package, an optional peer of @tinypipe/transport-uart: install serialport: npm i serialport',
        { cause, details: { package: specifier } },
      );
    throw new TinypipeError('ENVIRONMENT', `the serialport package failed to load: ${String(cause)}`, {
      cause,
      details: { package: specifier },
    });
  }
}
