/**
 * Every @tinypipe error code, its package and its meaning, from each package's own table: what
 * docs/errors.md lists (errors-doc.test.ts keeps them equal).
 */
import { CORE_ERROR_CODES } from '@tinypipe/core';
import { FLASHER_ERROR_CODES } from '@tinypipe/flasher';
import { PARTITIONER_ERROR_CODES } from '@tinypipe/partitioner';
import { PROTOCOL_ERROR_CODES } from '@tinypipe/protocol';
import { TRANSPORT_UART_ERROR_CODES } from '@tinypipe/transport-uart';
import { CLI_ERROR_CODES } from './codes.js';

/** Each package's code table, in the order of the package map (the wire first). */
export const ERROR_TABLES: readonly [pkg: string, codes: Readonly<Record<string, string>>][] = [
  ['@tinypipe/protocol', PROTOCOL_ERROR_CODES],
  ['@tinypipe/core', CORE_ERROR_CODES],
  ['@tinypipe/transport-uart', TRANSPORT_UART_ERROR_CODES],
  ['@tinypipe/partitioner', PARTITIONER_ERROR_CODES],
  ['@tinypipe/flasher', FLASHER_ERROR_CODES],
  ['@tinypipe/cli', CLI_ERROR_CODES],
];

/** The Markdown table of every code: `| code | package | meaning |`, one row per code. */
export function errorTableMarkdown(): string {
  const rows = ERROR_TABLES.flatMap(([pkg, codes]) =>
    Object.entries(codes).map(
      ([code, meaning]) => `| \`${code}\` | ${pkg} | ${meaning.replace(/\|/g, '\\|')} |`,
    ),
  );
  return ['| Code | Package | Meaning |', '| --- | --- | --- |', ...rows].join('\n');
}
