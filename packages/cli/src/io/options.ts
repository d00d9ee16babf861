/**
 * Flag parsers for commander. Every flag value is checked here, at the boundary, before any work starts;
 * a bad value is a `USAGE` error naming the flag, the value and what is accepted.
 */
import * as v from 'valibot';
import { usageError } from './errors.js';

function parseWith<T>(flag: string, what: string, schema: v.GenericSchema<unknown, T>) {
  return (raw: string): T => {
    const result = v.safeParse(schema, raw);
    if (!result.success) {
      throw usageError(`${flag} ${JSON.stringify(raw)} is not ${what}`, { flag, value: raw });
    }
    return result.output;
  };
}

const numeric = (raw: string) => raw.trim() !== '' && Number.isFinite(Number(raw));

/** A decimal integer (may be negative: range rules are the library's, so its error codes apply). */
export const intFlag = (flag: string) =>
  parseWith(
    flag,
    'an integer',
    v.pipe(v.string(), v.regex(/^-?\d+$/), v.transform(Number), v.number(), v.safeInteger()),
  );

/** A non-negative integer such as a seed (up to 2^53 - 1). */
export const uintFlag = (flag: string) =>
  parseWith(
    flag,
    'a non-negative integer',
    v.pipe(v.string(), v.regex(/^\d+$/), v.transform(Number), v.safeInteger(), v.minValue(0)),
  );

/** A finite decimal number, e.g. 0.9 or 1e-4. */
export const floatFlag = (flag: string) =>
  parseWith(flag, 'a number', v.pipe(v.string(), v.check(numeric), v.transform(Number)));

/** One of `choices` (listed by `--help`: the parser carries them). */
export const enumFlag = <const T extends string>(flag: string, choices: readonly T[]) =>
  Object.assign(parseWith(flag, `one of ${choices.join(', ')}`, v.picklist(choices)), { choices });

/** A comma-separated list of positive integers, e.g. `--split 2,3`. */
export const intListFlag = (flag: string) =>
  parseWith(
    flag,
    'a comma-separated list of positive integers (e.g. 2,3)',
    v.pipe(
      v.string(),
      v.regex(/^\d+(,\d+)*$/),
      v.transform((s) => s.split(',').map(Number)),
      v.array(v.pipe(v.number(), v.safeInteger(), v.minValue(1))),
    ),
  );
