import { describe, expect, it } from 'vitest';
import { TinypipeError } from './tinypipe-error.js';

describe('TinypipeError', () => {
  it('carries code, message, cause and details', () => {
    const cause = new Error('line cut');
    const e = new TinypipeError('TIMEOUT', 'no answer from x', { cause, details: { path: 'x' } });
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('TIMEOUT');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({
      name: 'TinypipeError',
      code: 'TIMEOUT',
      message: 'no answer from x',
      details: { path: 'x' },
    });
  });

  it('isInstance recognises the marker across copies, and nothing else', () => {
    const foreign = Object.assign(new Error('from another copy'), { [Symbol.for('tinypipe.error')]: true });
    expect(TinypipeError.isInstance(foreign)).toBe(true);
    expect(TinypipeError.isInstance(new Error('plain'))).toBe(false);
    expect(TinypipeError.isInstance(null)).toBe(false);
    expect(TinypipeError.isInstance('CHECKPOINT_TRUNCATED')).toBe(false);
    expect(TinypipeError.hasCode(new TinypipeError('PEER_RESET', 'x'), 'PEER_RESET')).toBe(true);
    expect(TinypipeError.hasCode(new TinypipeError('PEER_RESET', 'x'), 'LINK_DOWN')).toBe(false);
  });
});
