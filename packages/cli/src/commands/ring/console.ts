/**
 * Reading board 0's console (packages/firmware/README.md "Standalone ring", src/sink.c): status lines
 * `ring: …` on lines of their own; per story a header `ring: story N: …`, its text, and `ring: story N done:
 * K tokens[, R tok/s]` or `ring: story N abandoned after K tokens: why`. One story at a time its text
 * streams as it comes; several at once, each complete line goes out as `[N] line`.
 */

/** How one story ended on the console. */
export interface StoryEnd {
  tokens: number;
  /** The board's own rate (absent without a clock). */
  tokensPerSecond?: number;
  /** Why it was abandoned (a board stopped answering or restarted), absent when it ran to its end. */
  abandoned?: string;
}

/** `ring: story N: …` (its settings), or undefined before it started. */
export function storyHeader(text: string, n: number): string | undefined {
  return new RegExp(`^ring: story ${n}: ([^\\n]*)\\n`, 'm').exec(text)?.[1];
}

/** How story `n` ended, or undefined while it runs. */
export function storyEnd(text: string, n: number): StoryEnd | undefined {
  const done = new RegExp(`^ring: story ${n} done: (\\d+) tokens(?:, ([\\d.]+) tok/s)?$`, 'm').exec(text);
  if (done)
    return {
      tokens: Number(done[1]),
      ...(done[2] !== undefined ? { tokensPerSecond: Number(done[2]) } : {}),
    };
  const gone = new RegExp(`^ring: story ${n} abandoned after (\\d+) tokens: ([^\\n]*)$`, 'm').exec(text);
  return gone ? { tokens: Number(gone[1]), abandoned: gone[2]! } : undefined;
}

/**
 * Story `n`'s text so far: its `[n] ` lines when several run at once, else what follows its header up to
 * its end line, without the status lines that cut in. A last line that may still become a status line
 * (`ring: …` not yet complete) is held back, so what is returned only grows as the console does.
 */
export function storyText(text: string, n: number): string {
  const tagged = [...text.matchAll(new RegExp(`^\\[${n}\\] ([^\\n]*)\\n`, 'gm'))].map((m) => m[1]!);
  if (tagged.length) return `${tagged.join('\n')}\n`;
  const head = new RegExp(`^ring: story ${n}: [^\\n]*\\n`, 'm').exec(text);
  if (!head) return '';
  let body = text.slice(head.index + head[0].length);
  const end = new RegExp(`^ring: story ${n} (done|abandoned)`, 'm').exec(body);
  if (end) body = body.slice(0, end.index);
  // complete status lines out; an unfinished last line that is (or may become) one held back
  body = body.replace(/^ring: [^\n]*\n/gm, '');
  const last = body.slice(body.lastIndexOf('\n') + 1);
  if (!end && ('ring: '.startsWith(last) || last.startsWith('ring: ')))
    body = body.slice(0, body.length - last.length);
  return body;
}

/** The console's status lines (`ring: …` other than the stories' own), for the report. */
export function statusLines(text: string): string[] {
  return [...text.matchAll(/^ring: ([^\n]*)$/gm)]
    .map((m) => m[1]!)
    .filter((l) => !/^story \d+( done|:| abandoned)/.test(l));
}

/**
 * The seconds from story 1's header to the last of stories 1 … `stories` ending, on board 0's console as
 * the host saw it (`arrivedAt`: when the console first held a line; the stories told at once start
 * together): what `tinypipe demo`'s host-driven run measures from its first story's start to its last
 * token. Undefined when a line is missing.
 */
export function storiesSeconds(
  arrivedAt: (pattern: RegExp) => number | undefined,
  stories: number,
): number | undefined {
  const begun = arrivedAt(/^ring: story 1: [^\n]*\n/m);
  const ends = Array.from({ length: stories }, (_, i) =>
    arrivedAt(new RegExp(`^ring: story ${i + 1} (done|abandoned)[^\\n]*\\n`, 'm')),
  );
  if (begun === undefined || ends.some((t) => t === undefined)) return undefined;
  return (Math.max(...(ends as number[])) - begun) / 1000;
}
