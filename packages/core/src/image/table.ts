/**
 * The tensor table: fixed 64-byte entries right after the header (docs/image-format.md §4).
 */
import { TinypipeError } from '@tinypipe/protocol';
import {
  DTYPE_CODE,
  dtypeFromCode,
  ENTRY,
  expectedTensors,
  IMAGE_ENTRY_BYTES,
  IMAGE_HEADER_BYTES,
  IMAGE_MAX_RANK,
  IMAGE_NAME_BYTES,
  IMAGE_TENSOR_ALIGN,
  type TensorSpec,
} from './format.js';
import { layoutOf, tableEnd } from './header.js';
import type { ImageHeader, ImageTensorEntry } from './types.js';

/** Write one table entry at `at`. */
export function encodeEntry(dv: DataView, at: number, spec: TensorSpec, offset: number, crc: number): void {
  for (let i = 0; i < spec.name.length; i++) dv.setUint8(at + ENTRY.name + i, spec.name.charCodeAt(i));
  dv.setUint16(at + ENTRY.dtype, DTYPE_CODE[spec.dtype], true);
  dv.setUint16(at + ENTRY.rank, spec.shape.length, true);
  spec.shape.forEach((d, i) => {
    dv.setUint32(at + ENTRY.shape + 4 * i, d, true);
  });
  dv.setUint32(at + ENTRY.offset, offset, true);
  dv.setUint32(at + ENTRY.byteLength, spec.byteLength, true);
  dv.setUint32(at + ENTRY.crc, crc, true);
}

function badTable(
  index: number,
  name: string,
  what: string,
  details: Record<string, unknown> = {},
): TinypipeError {
  return new TinypipeError(
    'IMAGE_BAD_TABLE',
    `weight image tensor table, entry ${index} (${JSON.stringify(name)}): ${what}. The image is corrupt or not ` +
      'written by a compatible tinypipe; rebuild it.',
    { details: { index, tensor: name, ...details } },
  );
}

/** Decode a NUL-padded name field; undefined when it is not printable ASCII followed only by NULs. */
function decodeName(bytes: Uint8Array, at: number): string | undefined {
  let name = '';
  let i = 0;
  for (; i < IMAGE_NAME_BYTES; i++) {
    const b = bytes[at + i] as number;
    if (b === 0) break;
    if (b < 0x21 || b > 0x7e) return undefined;
    name += String.fromCharCode(b);
  }
  if (i === IMAGE_NAME_BYTES) return undefined; // no terminating NUL
  for (; i < IMAGE_NAME_BYTES; i++) if (bytes[at + i] !== 0) return undefined;
  return name;
}

/**
 * Decode the table and check every entry against what the header implies: names, dtypes, shapes
 * and byte lengths exactly as `expectedTensors` lists them, offsets 16-byte aligned, in file order,
 * not overlapping, after the table and inside `image_size`, the last one ending at `image_size`.
 * Needs `bytes.length >= tableEnd(header.tensorCount)`. Throws `IMAGE_BAD_TABLE`.
 */
export function decodeTable(bytes: Uint8Array, header: ImageHeader): ImageTensorEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const expected = expectedTensors(layoutOf(header));
  const entries: ImageTensorEntry[] = [];
  let prevEnd = tableEnd(header.tensorCount);
  expected.forEach((spec, index) => {
    const at = IMAGE_HEADER_BYTES + index * IMAGE_ENTRY_BYTES;
    const name = decodeName(bytes, at + ENTRY.name);
    if (name === undefined) throw badTable(index, spec.name, 'the name is not NUL-padded printable ASCII');
    if (name !== spec.name)
      throw badTable(index, name, `expected the tensor ${JSON.stringify(spec.name)} here`);
    const code = dv.getUint16(at + ENTRY.dtype, true);
    const dtype = dtypeFromCode(code);
    if (dtype !== spec.dtype) {
      throw badTable(index, name, `dtype code ${code} (${dtype ?? 'unknown'}), expected ${spec.dtype}`, {
        code,
      });
    }
    const rank = dv.getUint16(at + ENTRY.rank, true);
    const shape: number[] = [];
    for (let d = 0; d < IMAGE_MAX_RANK; d++) {
      const v = dv.getUint32(at + ENTRY.shape + 4 * d, true);
      if (d < rank) shape.push(v);
      else if (v !== 0)
        throw badTable(index, name, `shape[${d}] is ${v} but rank is ${rank}: unused dimensions must be 0`);
    }
    if (rank !== spec.shape.length || shape.some((v, d) => v !== spec.shape[d])) {
      throw badTable(index, name, `shape [${shape}] (rank ${rank}), expected [${spec.shape}]`, {
        expected: spec.shape,
        actual: shape,
      });
    }
    const offset = dv.getUint32(at + ENTRY.offset, true);
    const byteLength = dv.getUint32(at + ENTRY.byteLength, true);
    if (byteLength !== spec.byteLength) {
      throw badTable(
        index,
        name,
        `byte length ${byteLength}, expected ${spec.byteLength} for ${spec.dtype} [${spec.shape}]`,
        {
          expected: spec.byteLength,
          actual: byteLength,
        },
      );
    }
    if (offset % IMAGE_TENSOR_ALIGN !== 0) {
      throw badTable(index, name, `offset ${offset} is not a multiple of ${IMAGE_TENSOR_ALIGN}`, { offset });
    }
    if (offset < prevEnd) {
      throw badTable(
        index,
        name,
        `offset ${offset} overlaps the table or the previous tensor (which ends at ${prevEnd})`,
        {
          offset,
          previousEnd: prevEnd,
        },
      );
    }
    if (offset + byteLength > header.imageSize) {
      throw badTable(
        index,
        name,
        `bytes [${offset}, ${offset + byteLength}) run past image_size ${header.imageSize}`,
        {
          offset,
          byteLength,
          imageSize: header.imageSize,
        },
      );
    }
    if (dv.getUint32(at + ENTRY.reserved, true) !== 0)
      throw badTable(index, name, 'the reserved word is not 0');
    prevEnd = offset + byteLength;
    entries.push({ name, dtype, shape, offset, byteLength, crc32c: dv.getUint32(at + ENTRY.crc, true) });
  });
  if (prevEnd !== header.imageSize) {
    const last = entries.length - 1;
    throw badTable(
      last,
      entries[last]?.name ?? '',
      `the last tensor ends at ${prevEnd} but image_size is ${header.imageSize}`,
      {
        lastEnd: prevEnd,
        imageSize: header.imageSize,
      },
    );
  }
  return entries;
}
