/**
 * KV cache formats (docs/numerics.md §6b): how a stage stores the keys and values of past positions.
 * Named here, next to the HELLO caps that carry them, because every package depends on the protocol:
 * core (engines, image header), partitioner (plan) and pipeline (the host's check) import them from here.
 */
import { TinypipeError } from '../errors/tinypipe-error.js';

/**
 * The KV cache formats in number order: the index is the number in binary fields (image header
 * `kv_format`, HELLO `caps` bits 3–4, the C enum `tp_kv_format`). `'fp32'` is the default everywhere.
 */
export const KV_FORMATS = ['fp32', 'fp16', 'int8'] as const;

/**
 * A KV cache format: `'fp32'` binary32 as computed (the default, bit-identical to earlier releases),
 * `'fp16'` binary16 round-to-nearest-even per element, `'int8'` §3's activation quantization with one
 * scale per (position, kv head).
 */
export type KvFormat = (typeof KV_FORMATS)[number];

/** The number of a KV format in binary fields (0 fp32, 1 fp16, 2 int8). */
export function kvFormatCode(kv: KvFormat): number {
  const code = KV_FORMATS.indexOf(kv);
  if (code < 0)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `KV format ${JSON.stringify(kv)} is not one of ${KV_FORMATS.join(', ')}`,
    );
  return code;
}

/** The KV format numbered `code` in a binary field, or undefined when no format has that number. */
export function kvFormatOf(code: number): KvFormat | undefined {
  return KV_FORMATS[code];
}

/** Whether `s` names a KV format (for option and JSON parsers). */
export function isKvFormat(s: unknown): s is KvFormat {
  return typeof s === 'string' && (KV_FORMATS as readonly string[]).includes(s);
}
