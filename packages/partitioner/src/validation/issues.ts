/**
 * valibot issues → one readable TinypipeError: every bad field with its path (`boards[1].flashBytes`)
 * and what was expected, so a user fixes a JSON file in one pass.
 */
import { type ErrorCode, TinypipeError } from '@tinypipe/protocol';
import * as v from 'valibot';

export function issuesError(
  code: ErrorCode,
  what: string,
  issues: readonly v.BaseIssue<unknown>[],
): TinypipeError {
  const lines = issues.map((issue) => {
    const path =
      issue.path
        ?.map((p) => p.key)
        .reduce<string>(
          (acc, key) =>
            typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key),
          '',
        ) || '(root)';
    return `${path}: ${issue.input === undefined ? 'missing' : issue.message}`;
  });
  return new TinypipeError(code, `${what}: ${lines.join('; ')}`, {
    details: { issues: lines },
  });
}

/** Parses with `schema`, throwing `issuesError` on failure. */
export function parseWith<S extends v.GenericSchema>(
  schema: S,
  value: unknown,
  code: ErrorCode,
  what: string,
): v.InferOutput<S> {
  const r = v.safeParse(schema, value);
  if (!r.success) throw issuesError(code, what, r.issues);
  return r.output;
}
