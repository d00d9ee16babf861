import { describe, expect, it } from 'vitest';
import { TinypipeError } from './tinypipe-error.js';

describe('TinypipeError', () => {
  it('carries code, message, cause and details', () => {
    const cause = new Error('disk on fire');
    const e = new TinypipeError('FILE_READ_FAILED', 'could not read x', { cause, details: { path: 'x' } });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('FILE_READ_FAILED');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({
      name: 'TinypipeError',
      code: 'FILE_READ_FAILED',
      message: 'could not read x',
      details: { path: 'x' },
    });
  });

  it('isInstance recognises the marker across copies, and nothing else', () => {
    const foreign = Object.assign(new Error('from another copy'), { [Symbol.for('tinypipe.error')]: true });
    expect(TinypipeError.isInstance(foreign)).toBe(true);
    expect(TinypipeError.isInstance(new Error('plain'))).toBe(false);
    expect(TinypipeError.isInstance(null)).toBe(false);
    expect(TinypipeError.isInstance('CHECKPOINT_TRUNCATED')).toBe(false);
    expect(TinypipeError.hasCode(new TinypipeError('BAD_TOPP', 'x'), 'BAD_TOPP')).toBe(true);
    expect(TinypipeError.hasCode(new TinypipeError('BAD_TOPP', 'x'), 'BAD_STEPS')).toBe(false);
  });
});
