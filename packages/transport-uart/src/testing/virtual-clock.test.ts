import { describe, expect, it } from 'vitest';
import { VirtualClock } from './virtual-clock.js';

describe('VirtualClock', () => {
  it('jumps to each timer in order, repeats intervals, honours clears, and lets real work settle first', async () => {
    const clock = new VirtualClock();
    const seen: string[] = [];
    clock.setTimeout(() => seen.push(`b@${clock.now()}`), 500);
    clock.setTimeout(() => seen.push(`a@${clock.now()}`), 100);
    const dropped = clock.setTimeout(() => seen.push('never'), 50);
    clock.clearTimeout(dropped);
    const tick = clock.setInterval(() => {
      seen.push(`tick@${clock.now()}`);
      if (clock.now() >= 600) clock.clearInterval(tick);
    }, 200);
    let outside = false;
    void Promise.resolve().then(() => {
      outside = true; // a promise job settles before time moves
    });
    await clock.run(() => seen.length >= 5);
    expect(outside).toBe(true);
    expect(seen).toEqual(['a@100', 'tick@200', 'tick@400', 'b@500', 'tick@600']);
    clock.setTimeout(() => {}, 5000);
    await expect(clock.run(() => false, 1000)).rejects.toThrow(/passed 1000 ms without finishing/);
  });
});
