/**
 * The standalone ring (docs/protocol.md §4.5) on simulated boards over real PTYs: board 0 drives the stories
 * and prints them on its console, the last board samples, and the host only reads the console — it opens no
 * protocol link. The stories equal the host's run (@tinypipe/core's generateText with the spec sampler) for
 * the same prompt and seed, greedy and top-p, one or several at once; a board killed and restarted mid-story
 * is reported on the console, and the next story runs.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildImage,
  generateText,
  QuantEngine,
  quantize,
  readCheckpoint,
  Sampler,
  splitSelections,
} from '@tinypipe/core';
import { openSerialPort } from '@tinypipe/transport-uart/node';
import { afterAll, describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { type Ring, spawnRing } from './ring.js';
import { models, PROMPT, promptIds, qm, tokenizer } from './stories260k.test-helper.js';

const rings: Ring[] = [];
afterAll(async () => {
  await Promise.all(rings.map((r) => r.close()));
});

/** The images of a split; with `tokenized`, board 0's holds the tokenizer section (docs/image-format.md §4b). */
function imagesOf(split: number[], tokenized = false): string[] {
  return splitSelections(qm.config, split, 1).map((sel, i) => {
    const path = join(tmp, `ring-${split.join('_')}-${i}${tokenized ? '-tok' : ''}.img`);
    writeFileSync(path, buildImage(qm, sel, i === 0 && tokenized ? { tokenizer } : {}));
    return path;
  });
}

/** The host's run: every token after BOS, the prompt's included, as board 0 prints them. */
async function host(temperature: number, seed: number, steps: number): Promise<number[]> {
  const sampler = new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp: 'spec' });
  const run = await generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler,
    prompt: PROMPT,
    steps,
  });
  return run.tokens;
}

/** Each story's token ids from board 0's console: its lines "[n] …" (several at once) or its text (one). */
function stories(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const ids = (s: string) => s.trim().split(/\s+/).filter(Boolean).map(Number);
  for (const m of text.matchAll(/^ring: story (\d+): [^\n]*\n((?:(?!ring: )[^\n]*\n)*)ring: story \1 done/gm))
    out.set(Number(m[1]), ids(m[2]!));
  for (const m of text.matchAll(/^\[(\d+)\] ([^\n]*)$/gm))
    out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), ...ids(m[2]!)]);
  return out;
}

const splits = [[5], [2, 3], [1, 2, 2]];
const layersLine = (split: number[]) =>
  split
    .map((n, i) => {
      const from = split.slice(0, i).reduce((a, b) => a + b, 0);
      return `${from}-${from + n}${i === split.length - 1 ? '+classifier' : ''}`;
    })
    .join(' | ');

describe('standalone ring on simulated boards (no host link)', () => {
  for (const split of splits) {
    const n = split.length;
    it(`${n} board(s): greedy, and two seeded top-p stories at once, equal the host's runs`, async () => {
      const dir = join(tmp, `ring-${n}`);
      mkdirSync(join(dir, 'g'), { recursive: true });
      mkdirSync(join(dir, 't'), { recursive: true });
      const greedy = await spawnRing(imagesOf(split), {
        dir: join(dir, 'g'),
        driver: { prompt: promptIds, steps: 64, temperature: 0, stories: 1 },
      });
      rings.push(greedy);
      expect(await greedy.exited()).toBe(0);
      await greedy.close();
      const text = greedy.text();
      expect(text).toContain(
        `ring: ${n} board${n > 1 ? 's' : ''}, layers ${layersLine(split)}, 1 story at once, ready`,
      );
      expect(text).not.toContain('\0'); // no frame ever reached the host's only connection, the console
      expect(stories(text).get(1)).toEqual(await host(0, 1, 64));

      const topp = await spawnRing(imagesOf(split), {
        dir: join(dir, 't'),
        streams: 2,
        driver: {
          prompt: promptIds,
          steps: 80,
          temperature: 0.8,
          topp: 0.9,
          seed: 42,
          parallel: 4,
          stories: 2,
        },
      });
      rings.push(topp);
      expect(await topp.exited()).toBe(0);
      await topp.close();
      const both = stories(topp.text());
      expect(topp.text()).toContain('2 stories at once'); // the ring's smallest --streams, not --parallel
      expect(topp.text()).toMatch(/^\[1\] /m); // lines prefixed with their story
      expect(both.get(1)).toEqual(await host(0.8, 42, 80));
      expect(both.get(2)).toEqual(await host(0.8, 43, 80));
    }, 60_000);
  }
});

describe('standalone ring: a board killed and restarted mid-story', () => {
  for (const [split, killed, sanitized] of [
    [[1, 2, 2], 1, false],
    [[1, 2, 2], 2, false],
    [[2, 3], 1, false],
    [[1, 2, 2], 2, true], // every board under ASan + UBSan (any report aborts the board)
  ] as const) {
    it(`${split.length} boards, board ${killed} restarted${sanitized ? ' (ASan + UBSan boards)' : ''}: the console names it, the story is abandoned and the next one runs`, async () => {
      const dir = join(tmp, `restart-${split.join('_')}-${killed}${sanitized ? '-asan' : ''}`);
      mkdirSync(dir, { recursive: true });
      const ring = await spawnRing(imagesOf([...split]), {
        dir,
        stageUs: 3000, // long enough a story to pull a cable in the middle of it
        ...(sanitized ? { program: buildPosixBoard({ sanitize: true }).board } : {}),
        driver: { prompt: promptIds, steps: 150, temperature: 0.8, seed: 7, stories: 2 },
      });
      rings.push(ring);
      await ring.waitFor(/^ring: story 1: [^\n]*\n(\d+ ){12}/m);
      await ring.kill(killed); // SIGKILL, then the same board again on the same wiring
      await ring.waitFor(new RegExp(`^ring: board ${killed} stopped answering or restarted`, 'm'));
      await ring.waitFor(/^ring: story 1 abandoned after \d+ tokens/m);
      expect(await ring.exited()).toBe(0); // story 2 ran to its end
      const text = ring.text();
      expect(text).toMatch(/ring: story 2 done: 150 tokens/);
      expect(stories(text).get(2)).toEqual(await host(0.8, 8, 150));
      // the ring closed again before story 2: a census went round after the restart
      expect(text.indexOf(`ring: ${split.length} boards`, text.indexOf('story 1 abandoned'))).toBeGreaterThan(
        0,
      );
      await ring.close();
    }, 60_000);
  }
});

describe('standalone ring: text, and the console as the only connection', () => {
  for (const source of ['image', 'file'] as const)
    it(`2 boards, the tokenizer from ${source === 'image' ? "board 0's image" : 'a tokenizer.bin (--tokenizer)'}: board 0 prints the host's text; prompts and settings typed on its console (its own PTY) run next`, async () => {
      const dir = join(tmp, `text-${source}`);
      mkdirSync(dir, { recursive: true });
      const ring = await spawnRing(imagesOf([2, 3], source === 'image'), {
        dir,
        stageUs: 3000, // story 1 lasts while the next prompt is typed
        driver: {
          prompt: 'Lily',
          steps: 120,
          temperature: 0.8,
          seed: 3,
          stories: 2,
          console: 'pty',
          ...(source === 'file' ? { tokenizer: join(models, 'tok512.bin') } : {}),
        },
      });
      rings.push(ring);
      // the host's only connection: board 0's USB port, its console — bytes of text, never a frame
      const port = await openSerialPort(ring.boards[0]!.path);
      const reader = port.readable.getReader();
      const writer = port.writable.getWriter();
      const bytes: number[] = [];
      const text = () => Buffer.from(bytes).toString('utf8');
      const reading = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          bytes.push(...value);
        }
      })().catch(() => {}); // the port goes away when board 0 exits after its stories
      const until = async (re: RegExp) => {
        for (let i = 0; !re.test(text()); i++) {
          if (i > 1500) throw new Error(`the console never showed ${re}; it showed:\n${text()}`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      await until(/^ring: story 1: /m);
      await writer.write(new TextEncoder().encode('/seed 10\nOnce upon a time\n'));
      await until(/^ring: story 2 done/m);
      expect(bytes).not.toContain(0); // COBS frames are delimited by 0x00: none reached the console
      // a story's text; a status line may cut into it (on a line of its own): compared without line breaks
      const told = (n: number) =>
        new RegExp(`^ring: story ${n}: [^\\n]*\\n([\\s\\S]*?)ring: story ${n} done`, 'm')
          .exec(text())![1]!
          .replace(/^ring: [^\n]*\n/gm, '')
          .replace(/\n/g, '');
      const host = async (prompt: string, seed: number) =>
        (
          await generateText({
            engine: QuantEngine.fromModel(qm),
            tokenizer,
            sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed, exp: 'spec' }),
            prompt,
            steps: 120,
          })
        ).text;
      expect(told(1)).toBe((await host('Lily', 3)).replace(/\n/g, ''));
      expect(text()).toContain('ring: seed 10 for the next stories');
      expect(told(2)).toBe((await host(PROMPT, 11)).replace(/\n/g, '')); // the typed prompt; story 2: seed 10 + 2 - 1
      expect(await ring.exited()).toBe(0);
      await reading;
      await ring.close();
    }, 60_000);
});

describe('standalone ring: a ring wired wrong', () => {
  it('3 boards in the wrong order: board 0 says which link refuses and why, and tells no story', async () => {
    const dir = join(tmp, 'wrong');
    mkdirSync(dir, { recursive: true });
    const [a, b, c] = imagesOf([1, 2, 2]);
    const ring = await spawnRing([a!, c!, b!], { dir, driver: { prompt: promptIds, steps: 20, stories: 1 } });
    rings.push(ring);
    const [line] = await ring.waitFor(/^ring: the ring is not closed: board 0: [^\n]*\n/m);
    expect(line).toMatch(/layer/); // the next board's layers do not start where board 0's end
    expect(ring.text()).not.toMatch(/ready|story 1/);
    await ring.close();
  }, 30_000);
  it('a last board of another model: board 1 refuses it, and board 0 says so (the census carried the refusal back)', async () => {
    const dir = join(tmp, 'wrong-model');
    mkdirSync(dir, { recursive: true });
    const [a, b] = imagesOf([1, 2, 2]);
    const q4 = quantize(readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin')))), {
      weights: 'q4',
    });
    const c = join(dir, 'q4-last.img');
    writeFileSync(c, buildImage(q4, splitSelections(q4.config, [1, 2, 2], 1)[2]!));
    const ring = await spawnRing([a!, b!, c], { dir, driver: { prompt: promptIds, steps: 20, stories: 1 } });
    rings.push(ring);
    await ring.waitFor(/^ring: the ring is not closed: board 1: WRONG_MODEL: [^\n]*model/m);
    // the census is retried about once a second and refused each time: the console says it once
    await new Promise((r) => setTimeout(r, 2500));
    expect(ring.text().match(/the ring is not closed/g), ring.text()).toHaveLength(1);
    expect(ring.text()).not.toMatch(/ready|story 1/);
    await ring.close();
  }, 30_000);
});
