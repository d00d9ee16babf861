/**
 * A one-board standalone story on the MCU ISA (issue 21 item 6): bare-metal rv32imafc under QEMU runs the
 * standalone driver (src/standalone.c) as a ring of one — every layer, the whole classifier and the board's
 * own sampler in one image, and the tokenizer too (docs/image-format.md §4b) — and prints the stories on its
 * console as board 0 of a ring does. They equal the host's run (@tinypipe/core's generateText with the spec
 * sampler) for the same prompt and seed: token ids without a tokenizer, the text with one.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImage, generateText, QuantEngine, quantize, Sampler, splitSelections } from '@tinypipe/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildRv32, runRv32Program } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { checkpoint, PROMPT, tokenizer } from './stories260k.test-helper.js';

let elf: string;
beforeAll(() => {
  elf = buildRv32();
});

describe('standalone on rv32imafc under QEMU (a ring of one board)', () => {
  for (const kind of ['q4', 'q8'] as const) {
    it(`stories260K ${kind}: a greedy story and two seeded top-p stories equal the host's runs`, async () => {
      const qm = quantize(checkpoint, { weights: kind });
      const [whole] = splitSelections(qm.config, [qm.config.nLayers], 1);
      const image = join(tmp, `rv32-standalone-${kind}.img`);
      writeFileSync(image, buildImage(qm, whole!));
      const ids = tokenizer.encode(PROMPT, { bos: true, eos: false }).join('_'); // no tokenizer in the image yet
      const host = async (temperature: number, seed: number, steps: number) =>
        (
          await generateText({
            engine: QuantEngine.fromModel(qm),
            tokenizer,
            sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp: 'spec' }),
            prompt: PROMPT,
            steps,
          })
        ).tokens;
      const run = (temperature: number, seed: number, stories: number) => {
        const text = runRv32Program(elf, [
          '--standalone',
          '48',
          String(temperature),
          '0.9',
          String(seed),
          String(stories),
          image,
          ids,
        ]);
        expect(text).toContain('ring: 1 board, layers 0-5+classifier, 1 story at once, ready');
        const told = [
          ...text.matchAll(/^ring: story (\d+): [^\n]*\n([^\n]*)\nring: story \1 done: (\d+) tokens\n/gm),
        ];
        expect(told.map((m) => Number(m[1]))).toEqual(Array.from({ length: stories }, (_, i) => i + 1));
        return told.map((m) => m[2]!.trim().split(' ').map(Number));
      };
      expect(run(0, 1, 1)).toEqual([await host(0, 1, 48)]);
      expect(run(0.8, 42, 2)).toEqual([await host(0.8, 42, 48), await host(0.8, 43, 48)]);
    }, 120_000);
  }
  it("stories260K q8 with the tokenizer in the image: the text of a greedy and of two seeded top-p stories equals the host's", async () => {
    const qm = quantize(checkpoint, { weights: 'q8' });
    const [whole] = splitSelections(qm.config, [qm.config.nLayers], 1);
    const image = join(tmp, 'rv32-standalone-tokenizer.img');
    writeFileSync(image, buildImage(qm, whole!, { tokenizer })); // tokenizer + all layers + sampler: one image
    const host = async (temperature: number, seed: number) =>
      (
        await generateText({
          engine: QuantEngine.fromModel(qm),
          tokenizer,
          sampler: new Sampler({ vocabSize: 512, temperature, topp: 0.9, seed, exp: 'spec' }),
          prompt: PROMPT,
          steps: 64,
        })
      ).text.replace(/\n$/, '');
    const run = (temperature: number, seed: number, stories: number) => {
      // a space travels as "_" (semihosting splits arguments at spaces)
      const args = ['--standalone', '64', String(temperature), '0.9', String(seed), String(stories), image];
      const text = runRv32Program(elf, [...args, PROMPT.replaceAll(' ', '_')]);
      const told = [
        ...text.matchAll(/^ring: story (\d+): 5 prompt tokens[^\n]*\n([\s\S]*?)\n?ring: story \1 done/gm),
      ];
      expect(told.map((m) => Number(m[1]))).toEqual(Array.from({ length: stories }, (_, i) => i + 1));
      return told.map((m) => m[2]!);
    };
    expect(run(0, 1, 1)).toEqual([await host(0, 1)]);
    expect(run(0.8, 42, 2)).toEqual([await host(0.8, 42), await host(0.8, 43)]);
  }, 120_000);
  it("stories260K q8 with the tokenizer and story defaults in the image, no setting given: the image's story, the host's text", async () => {
    const qm = quantize(checkpoint, { weights: 'q8' });
    const [whole] = splitSelections(qm.config, [qm.config.nLayers], 1);
    const image = join(tmp, 'rv32-standalone-story.img');
    const story = { prompt: 'Lily went', steps: 56, temperature: 0.75, topp: 0.875, seed: 21, parallel: 1 };
    writeFileSync(image, buildImage(qm, whole!, { tokenizer, story })); // what a board powered alone tells
    const text = runRv32Program(elf, ['--standalone', '-', '-', '-', '-', '2', image]);
    const told = [...text.matchAll(/^ring: story (\d+): ([^\n]*)\n([\s\S]*?)\n?ring: story \1 done/gm)];
    expect(told.map((m) => [Number(m[1]), m[2]])).toEqual([
      [1, '4 prompt tokens, temperature 0.75, topp 0.875, seed 21, 56 steps'],
      [2, '4 prompt tokens, temperature 0.75, topp 0.875, seed 22, 56 steps'],
    ]);
    for (const [i, seed] of [21, 22].entries()) {
      const host = await generateText({
        engine: QuantEngine.fromModel(qm),
        tokenizer,
        sampler: new Sampler({ vocabSize: 512, temperature: 0.75, topp: 0.875, seed, exp: 'spec' }),
        prompt: story.prompt,
        steps: 56,
      });
      expect(told[i]![3]).toBe(host.text.replace(/\n$/, ''));
    }
  }, 120_000);
});
