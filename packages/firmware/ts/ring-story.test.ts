/**
 * Board 0's story defaults from its image (docs/image-format.md §4c) on simulated boards: a ring whose board 0
 * is given no story option tells the story the image's defaults say — equal to the host's run with them —, an
 * option given overrides that one setting only, and the C reader (tp_image_story, checked at boot by
 * tp_image_open) and readImage refuse damaged defaults with the same code.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildImage,
  generateText,
  QuantEngine,
  readImage,
  Sampler,
  type StoryDefaultsInput,
  splitSelections,
} from '@tinypipe/core';
import { crc32c } from '@tinypipe/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { cVerdict, tsVerdict } from './bounds.test-helper.js';
import { tmp } from './helpers.test-helper.js';
import { type Ring, spawnRing } from './ring.js';
import { PROMPT, promptIds, qm, tokenizer } from './stories260k.test-helper.js';

const rings: Ring[] = [];
afterAll(async () => {
  await Promise.all(rings.map((r) => r.close()));
});

/** The images of `split`; board 0's holds `story` (and the tokenizer with `tokenized`). */
function imagesOf(split: number[], story: StoryDefaultsInput, tokenized = false, name = 'story'): string[] {
  return splitSelections(qm.config, split, 1).map((sel, i) => {
    const path = join(tmp, `${name}-${split.join('_')}-${i}.img`);
    writeFileSync(path, buildImage(qm, sel, i === 0 ? { story, ...(tokenized ? { tokenizer } : {}) } : {}));
    return path;
  });
}

/** The host's run for these settings (the prompt as text). */
function host(s: { temperature: number; topp: number; steps: number }, seed: number, prompt = PROMPT) {
  return generateText({
    engine: QuantEngine.fromModel(qm),
    tokenizer,
    sampler: new Sampler({ vocabSize: 512, temperature: s.temperature, topp: s.topp, seed, exp: 'spec' }),
    prompt,
    steps: s.steps,
  });
}

/** Each story's token ids from board 0's console: "[n] …" lines (several at once) or the lines between its status lines. */
function stories(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  const ids = (s: string) => s.trim().split(/\s+/).filter(Boolean).map(Number);
  for (const m of text.matchAll(/^ring: story (\d+): [^\n]*\n((?:(?!ring: )[^\n]*\n)*)ring: story \1 done/gm))
    if (!/^\[/m.test(m[2]!)) out.set(Number(m[1]), ids(m[2]!)); // one story at a time: no "[n]" prefix
  for (const m of text.matchAll(/^\[(\d+)\] ([^\n]*)$/gm))
    out.set(Number(m[1]), [...(out.get(Number(m[1])) ?? []), ...ids(m[2]!)]);
  return out;
}

// binary32 values, so the console's %g prints them as given and the host samples with the board's numbers
const IDS_STORY = { prompt: promptIds, steps: 70, temperature: 0.75, topp: 0.875, seed: 9, parallel: 2 };

describe("standalone ring: board 0's story defaults from its image", () => {
  it("1 board, no story option: two stories at once with the image's prompt, steps, temperature, top-p and seeds, equal to the host's runs", async () => {
    const dir = join(tmp, 'story-ids');
    mkdirSync(dir, { recursive: true });
    const ring = await spawnRing(imagesOf([5], IDS_STORY), { dir, streams: 2, driver: { stories: 2 } });
    rings.push(ring);
    expect(await ring.exited()).toBe(0);
    const text = ring.text();
    expect(text).toContain('2 stories at once'); // the image's parallel 2 (the default would be 1)
    expect(text).toMatch(
      /^ring: story 1: \d+ prompt tokens, temperature 0\.75, topp 0\.875, seed 9, 70 steps$/m,
    );
    expect(text).toMatch(
      /^ring: story 2: \d+ prompt tokens, temperature 0\.75, topp 0\.875, seed 10, 70 steps$/m,
    );
    const told = stories(text);
    expect(told.get(1)).toEqual((await host(IDS_STORY, 9)).tokens);
    expect(told.get(2)).toEqual((await host(IDS_STORY, 10)).tokens);
  }, 60_000);

  it('an option given overrides that setting only: --sample-seed 77, the rest from the image', async () => {
    const dir = join(tmp, 'story-seed');
    mkdirSync(dir, { recursive: true });
    const ring = await spawnRing(imagesOf([5], IDS_STORY, false, 'seed'), {
      dir,
      streams: 2,
      driver: { stories: 1, seed: 77 },
    });
    rings.push(ring);
    expect(await ring.exited()).toBe(0);
    const text = ring.text();
    expect(text).toMatch(
      /^ring: story 1: \d+ prompt tokens, temperature 0\.75, topp 0\.875, seed 77, 70 steps$/m,
    );
    expect(stories(text).get(1)).toEqual((await host(IDS_STORY, 77)).tokens);
  }, 60_000);

  it("2 boards, the tokenizer and a text prompt in board 0's image: board 0 prints the host's text", async () => {
    const dir = join(tmp, 'story-text');
    mkdirSync(dir, { recursive: true });
    const story = {
      prompt: 'Lily and the moon',
      steps: 100,
      temperature: 0.5,
      topp: 0.9375,
      seed: 4,
      parallel: 1,
    };
    const ring = await spawnRing(imagesOf([2, 3], story, true, 'text'), { dir, driver: { stories: 1 } });
    rings.push(ring);
    expect(await ring.exited()).toBe(0);
    const text = ring.text();
    expect(text).toMatch(
      /^ring: story 1: \d+ prompt tokens, temperature 0\.5, topp 0\.9375, seed 4, 100 steps$/m,
    );
    // the story's text; a status line may cut into it (on a line of its own): compared without line breaks
    const told = /^ring: story 1: [^\n]*\n([\s\S]*?)ring: story 1 done/m
      .exec(text)![1]!
      .replace(/^ring: [^\n]*\n/gm, '')
      .replace(/\n/g, '');
    expect(told).toBe((await host(story, 4, story.prompt)).text.replace(/\n/g, ''));
  }, 60_000);
});

describe('the story defaults: the C reader and readImage agree on damage', () => {
  const sel = splitSelections(qm.config, [5], 1)[0]!;
  const img = buildImage(qm, sel, { story: { ...IDS_STORY, prompt: 'Once upon a time' }, tokenizer });
  const { tensors } = readImage(img);
  const t = tensors.at(-1)!;
  const entry = 256 + (tensors.length - 1) * 64;
  /** `img` with the record edited and every CRC resealed (a record that only its own rules catch). */
  const resealed = (edit: (v: DataView) => void) => {
    const bad = img.slice();
    edit(new DataView(bad.buffer, t.offset, t.byteLength));
    const v = new DataView(bad.buffer);
    v.setUint32(entry + 0x38, crc32c(bad.subarray(t.offset, t.offset + t.byteLength)), true);
    const tableEnd = 256 + tensors.length * 64;
    v.setUint32(0x0c, crc32c(bad.subarray(16, tableEnd), crc32c(bad.subarray(0, 12))), true);
    return bad;
  };

  it('the intact image, and every bit of the record, the flags byte and story_bytes: the same code from both', async () => {
    expect([await cVerdict(img), tsVerdict(img)]).toEqual(['OK', 'OK']);
    const places = [0x58, 0x8c, 0x8d, 0x8e, 0x8f, 0x90];
    for (let i = t.offset; i < t.offset + t.byteLength; i++) places.push(i);
    for (const at of places) {
      for (let bit = 0; bit < 8; bit++) {
        const bad = img.slice();
        bad[at] = (bad[at] as number) ^ (1 << bit);
        const ts = tsVerdict(bad);
        expect(ts).not.toBe('OK');
        expect([at, bit, await cVerdict(bad)]).toEqual([at, bit, ts]);
      }
    }
  }, 120_000);

  it('each rule broken under valid CRCs: IMAGE_BAD_TABLE from both; the seed has no rule', async () => {
    const put = (v: DataView, at: number, ...bytes: number[]) => {
      bytes.forEach((b, i) => {
        v.setUint8(at + i, b);
      });
    };
    const broken: [string, (v: DataView) => void][] = [
      ['temperature -0.5', (v) => v.setFloat32(0, -0.5, true)],
      ['temperature +inf', (v) => v.setUint32(0, 0x7f800000, true)],
      ['temperature NaN', (v) => v.setUint32(0, 0x7fc00000, true)],
      ['topp 1.5', (v) => v.setFloat32(4, 1.5, true)],
      ['topp -0.25', (v) => v.setFloat32(4, -0.25, true)],
      ['topp NaN', (v) => v.setUint32(4, 0xffc00001, true)],
      ['steps 0', (v) => v.setUint32(16, 0, true)],
      ['steps seq_len + 1', (v) => v.setUint32(16, qm.config.seqLen + 1, true)],
      ['parallel 0', (v) => v.setUint16(20, 0, true)],
      ['parallel 17', (v) => v.setUint16(20, 17, true)],
      ['prompt_bytes + 1', (v) => v.setUint16(22, v.getUint16(22, true) + 1, true)],
      ['a NUL in the prompt', (v) => put(v, 30, 0)],
      ['a lone continuation byte', (v) => put(v, 24, 0xbf)],
      ['an overlong NUL', (v) => put(v, 24, 0xc0, 0x80)],
      ['a surrogate', (v) => put(v, 24, 0xed, 0xb0, 0x80)],
      ['past U+10FFFF', (v) => put(v, 24, 0xf4, 0x90, 0x80, 0x80)],
      ['a lead byte 0xf5', (v) => put(v, 24, 0xf5, 0x80, 0x80, 0x80)],
      ['cut short at the end', (v) => put(v, v.byteLength - 2, 0x61, 0xf0)],
    ];
    for (const [what, edit] of broken) {
      const bad = resealed(edit);
      expect([what, await cVerdict(bad), tsVerdict(bad)]).toEqual([
        what,
        'IMAGE_BAD_TABLE',
        'IMAGE_BAD_TABLE',
      ]);
    }
    const edges: [string, (v: DataView) => void][] = [
      ['seed 2^64 - 1', (v) => v.setBigUint64(8, (1n << 64n) - 1n, true)],
      ['temperature 0, topp 1', (v) => put(v, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x3f)],
      ['topp 0', (v) => v.setFloat32(4, 0, true)],
      ['steps seq_len', (v) => v.setUint32(16, qm.config.seqLen, true)],
      ['parallel 16', (v) => v.setUint16(20, 16, true)],
      ['a 4-byte character', (v) => put(v, 24, 0xf0, 0x9f, 0x90, 0x88)],
    ];
    for (const [what, edit] of edges) {
      const ok = resealed(edit);
      expect([what, await cVerdict(ok), tsVerdict(ok)]).toEqual([what, 'OK', 'OK']);
    }
  }, 60_000);
});
