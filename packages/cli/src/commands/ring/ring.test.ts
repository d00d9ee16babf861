/** The ring's pacing arguments and the console's timing of its stories (no boards started). */
import type { Plan } from '@tinypipe/partitioner';
import { describe, expect, it } from 'vitest';
import { type RingStart, ringBoardArgs } from './boards.js';
import { storiesSeconds } from './console.js';

describe('ringBoardArgs', () => {
  // only what the arguments read of a plan: each board's flash size
  const plan = { boards: [0, 1].map(() => ({ profile: { flashBytes: 16 << 20 } })) } as unknown as Plan;
  const start = (pace?: RingStart['pace']): RingStart => ({
    program: 'board',
    plan,
    dir: '/tmp/ring',
    streams: 2,
    driver: { stories: 1, console: 'stdio' },
    ...(pace ? { pace } : {}),
  });
  const flagValue = (args: string[], flag: string) =>
    args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined;

  it('paces a board as the host-driven demo does: compute per message, cache preload, line rate', () => {
    const args = ringBoardArgs(
      start((i) => ({ stageUs: 1000.4 + i, preloadUs: 250, lineBaud: 2_000_000 })),
      1,
    );
    expect(flagValue(args, '--stage-us')).toBe('1001');
    expect(flagValue(args, '--preload-us')).toBe('250');
    expect(flagValue(args, '--line-baud')).toBe('2000000');
  });

  it('no pace: the board runs at the host’s speed; no preload: no --preload-us', () => {
    expect(ringBoardArgs(start(), 0)).not.toContain('--stage-us');
    const args = ringBoardArgs(
      start(() => ({ stageUs: 5, preloadUs: 0, lineBaud: 9600 })),
      0,
    );
    expect(args).toContain('--stage-us');
    expect(args).not.toContain('--preload-us');
  });
});

describe('storiesSeconds', () => {
  // when each console line arrived, ms
  const at = new Map([
    ['ring: story 1: ', 1000],
    ['ring: story 2: ', 1001],
    ['ring: story 1 done', 3000],
    ['ring: story 2 abandoned', 3500],
  ]);
  const arrivedAt = (p: RegExp) => [...at].find(([line]) => p.test(`${line} …\n`))?.[1];

  it('from story 1’s start to the last story’s end, done or abandoned', () => {
    expect(storiesSeconds(arrivedAt, 2)).toBe(2.5);
    expect(storiesSeconds(arrivedAt, 1)).toBe(2);
  });

  it('undefined while a story has not ended', () => {
    expect(storiesSeconds(arrivedAt, 3)).toBeUndefined();
  });
});
