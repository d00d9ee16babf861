/**
 * The one error family of `@tinypipe`. Every failure a user can act on is a `TinypipeError` with a
 * stable `code` (safe to switch on), a message that says what happened and what to do, and the
 * underlying `cause` when there is one.
 *
 * `TinypipeError.isInstance(e)` works across duplicated copies of this package (two versions in one
 * `node_modules`), because it checks a global symbol marker rather than the class identity.
 */

import type { ProtocolErrorCodes } from './codes.js';

const marker = Symbol.for('tinypipe.error');

/**
 * Every error code, as the keys of one interface: this package's own (`PROTOCOL_ERROR_CODES`, in
 * errors/codes.ts), and those of each `@tinypipe` package that registers its own by augmenting it, e.g.
 *
 *     declare module '@tinypipe/protocol' {
 *       interface TinypipeErrorCodes extends PartitionerErrorCodes {}
 *     }
 *
 * so a code type-checks where the package that owns it is installed. The values are one-line meanings.
 * docs/errors.md lists every code, its package and its meaning.
 */
export interface TinypipeErrorCodes extends ProtocolErrorCodes {}

/** Stable error codes (safe to switch on). Add new ones to the owning package's table; never rename one. */
export type ErrorCode = Extract<keyof TinypipeErrorCodes, string>;

export interface TinypipeErrorOptions {
  cause?: unknown;
  /** Machine-readable facts (expected/actual sizes, offsets, names) for tools and `--json` output. */
  details?: Record<string, unknown>;
}

export class TinypipeError extends Error {
  readonly [marker] = true;
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: TinypipeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TinypipeError';
    this.code = code;
    this.details = options.details;
  }

  /** True for any TinypipeError, from any copy of @tinypipe/protocol (or of @tinypipe/core before it). */
  static isInstance(value: unknown): value is TinypipeError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true;
  }

  /** True when `value` is a TinypipeError with the given code. */
  static hasCode(value: unknown, code: ErrorCode): value is TinypipeError {
    return TinypipeError.isInstance(value) && value.code === code;
  }

  toJSON(): { name: string; code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}
