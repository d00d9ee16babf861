/**
 * The validation pipeline shared by `readImage` (stop at the first failure, throw it) and
 * `verifyImage` (run every check that can still be interpreted, report each).
 * Order (docs/image-format.md §6): length, magic, version, header fields and ranges, table length,
 * header CRC, table, total size, each tensor's CRC, padding.
 */
import { crc32c, TinypipeError } from '@tinypipe/protocol';
import { IMAGE_HEADER_BYTES } from './format.js';
import { checkMagic, checkVersion, computeHeaderCrc, decodeHeader, tableEnd } from './header.js';
import { decodeTable } from './table.js';
import type { ImageHeader, ImageTensorEntry } from './types.js';

/** Receives each check's outcome. `fail` may throw to stop the pipeline. */
export interface CheckSink {
  pass(check: string, message: string): void;
  fail(check: string, error: TinypipeError): void;
}

export interface Inspection {
  readonly header?: ImageHeader;
  readonly tensors?: readonly ImageTensorEntry[];
}

const hex32 = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

/**
 * Run `fn` as check `name`: its value wrapped in `{ value }` when it passed, undefined when it failed
 * (a TinypipeError goes to the sink; anything else is a bug and propagates).
 */
function attempt<T>(
  sink: CheckSink,
  name: string,
  fn: () => T,
  ok: (value: T) => string,
): { value: T } | undefined {
  let value: T;
  try {
    value = fn();
  } catch (e) {
    if (!TinypipeError.isInstance(e)) throw e;
    sink.fail(name, e);
    return undefined;
  }
  sink.pass(name, ok(value));
  return { value };
}

export function inspectImage(bytes: Uint8Array, sink: CheckSink): Inspection {
  const n = bytes.length;
  const lengthOk = attempt(
    sink,
    'length',
    () => {
      if (n < IMAGE_HEADER_BYTES) {
        throw new TinypipeError(
          'IMAGE_TRUNCATED',
          `weight image is ${n} bytes, shorter than its ${IMAGE_HEADER_BYTES}-byte header. The file was cut short; ` +
            'rebuild or re-copy it.',
          { details: { expected: IMAGE_HEADER_BYTES, actual: n } },
        );
      }
      return n;
    },
    (v) => `${v} bytes, at least the ${IMAGE_HEADER_BYTES}-byte header`,
  );
  if (lengthOk === undefined) return {};
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (
    attempt(
      sink,
      'magic',
      () => checkMagic(dv),
      () => '"TPIM"',
    ) === undefined
  )
    return {};
  if (
    attempt(
      sink,
      'version',
      () => checkVersion(dv),
      () => `version ${dv.getUint32(4, true)}`,
    ) === undefined
  )
    return {};
  const decoded = attempt(
    sink,
    'header',
    () => decodeHeader(bytes),
    (h) =>
      `layers [${h.layerRange[0]}, ${h.layerRange[1]}) of ${h.config.nLayers}, ` +
      `embedding ${h.embedding ? 'yes' : 'no'}, classifier ${h.vocab ? `[${h.vocab[0]}, ${h.vocab[1]})` : 'no'}, ` +
      `${h.kind} g${h.groupSize}, KV cache ${h.kv}, ${h.tensorCount} tensors, ${h.imageSize} bytes`,
  );
  if (decoded === undefined) return {};
  const header = decoded.value;

  const end = tableEnd(header.tensorCount);
  const tableFits = attempt(
    sink,
    'table-length',
    () => {
      if (n < end) {
        throw new TinypipeError(
          'IMAGE_TRUNCATED',
          `weight image is ${n} bytes but its header and tensor table need ${end}. The file was cut short; ` +
            'rebuild or re-copy it.',
          { details: { expected: end, actual: n } },
        );
      }
      return end;
    },
    (e) => `header and table fit (${e} bytes)`,
  );
  if (tableFits === undefined) return { header };

  attempt(
    sink,
    'header-crc',
    () => {
      const actual = computeHeaderCrc(bytes, end);
      if (actual !== header.headerCrc) {
        throw new TinypipeError(
          'IMAGE_HEADER_CRC',
          `weight image header/table CRC-32C is ${hex32(actual)}, the header says ${hex32(header.headerCrc)}: ` +
            'the header or the tensor table is corrupt. Re-flash or rebuild the image.',
          { details: { expected: header.headerCrc, actual } },
        );
      }
    },
    () => `${hex32(header.headerCrc)} over bytes [0, ${end})`,
  );

  const table = attempt(
    sink,
    'table',
    () => decodeTable(bytes, header),
    (t) => `${t.length} entries as the header implies, aligned, in order, inside ${header.imageSize} bytes`,
  );
  if (table === undefined) return { header };
  const tensors = table.value;

  attempt(
    sink,
    'size',
    () => {
      if (n < header.imageSize) {
        throw new TinypipeError(
          'IMAGE_TRUNCATED',
          `weight image is ${n} bytes, the header says ${header.imageSize}. The file was cut short; rebuild or re-copy it.`,
          { details: { expected: header.imageSize, actual: n } },
        );
      }
      if (n > header.imageSize) {
        throw new TinypipeError(
          'IMAGE_SIZE_MISMATCH',
          `weight image is ${n} bytes, the header says ${header.imageSize}: ${n - header.imageSize} bytes follow the ` +
            'last tensor. Pass exactly the image (a flash read-back must be cut to image_size).',
          { details: { expected: header.imageSize, actual: n } },
        );
      }
    },
    () => `${n} bytes as the header says`,
  );

  for (const t of tensors) {
    attempt(
      sink,
      `tensor:${t.name}`,
      () => {
        if (t.offset + t.byteLength > n) {
          throw new TinypipeError(
            'IMAGE_TRUNCATED',
            `weight image tensor ${t.name} (bytes [${t.offset}, ${t.offset + t.byteLength})) is missing: the image is only ${n} bytes.`,
            { details: { tensor: t.name, offset: t.offset, byteLength: t.byteLength, actual: n } },
          );
        }
        const actual = crc32c(bytes.subarray(t.offset, t.offset + t.byteLength));
        if (actual !== t.crc32c) {
          throw new TinypipeError(
            'IMAGE_TENSOR_CRC',
            `weight image tensor ${t.name} is corrupt: CRC-32C of its ${t.byteLength} bytes at offset ${t.offset} is ` +
              `${hex32(actual)}, the table says ${hex32(t.crc32c)}. Re-flash or rebuild the image.`,
            { details: { tensor: t.name, offset: t.offset, expected: t.crc32c, actual } },
          );
        }
      },
      () => `${t.dtype} [${t.shape.join(', ')}] at ${t.offset}, CRC ${hex32(t.crc32c)}`,
    );
  }

  attempt(
    sink,
    'padding',
    () => {
      let gap = end;
      let padBytes = 0;
      for (const t of tensors) {
        const stop = Math.min(t.offset, n);
        for (let i = gap; i < stop; i++) {
          if (bytes[i] !== 0) {
            throw new TinypipeError(
              'IMAGE_BAD_PADDING',
              `weight image byte ${i} (padding before tensor ${t.name}) is 0x${(bytes[i] as number).toString(16)}, ` +
                'the format requires 0. The image is corrupt; re-flash or rebuild it.',
              { details: { offset: i, before: t.name, actual: bytes[i] } },
            );
          }
        }
        padBytes += Math.max(0, stop - gap);
        gap = t.offset + t.byteLength;
      }
      return padBytes;
    },
    (p) => `${p} padding bytes, all zero`,
  );

  return { header, tensors };
}
