import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { Fp32Engine } from '../engine/fp32-engine.js';
import { codeOfAsync as codeOf } from '../errors/code-of.test-helper.js';
import { Sampler } from '../sampler/sampler.js';
import { readTokenizer } from '../tokenizer/tokenizer.js';
import { generate, generateText } from './generate.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));
const checkpoint = readCheckpoint(new Uint8Array(readFileSync(repo('models/stories260K.bin'))));
const tokenizer = readTokenizer(new Uint8Array(readFileSync(repo('models/tok512.bin'))), 512);
const tokenizer32k = readTokenizer(new Uint8Array(readFileSync(repo('models/tokenizer.bin'))), 32000);
const greedy = () => new Sampler({ vocabSize: 512, temperature: 0, topp: 0.9, seed: 1 });
const base = () => ({ engine: new Fp32Engine(checkpoint), tokenizer, sampler: greedy() });

describe('generate', () => {
  it('streams prompt tokens first, then sampled ones, with positions', async () => {
    const items = [];
    for await (const t of generate({ ...base(), prompt: 'Lily and Tom', steps: 12 })) items.push(t);
    const prompt = tokenizer.encode('Lily and Tom', { bos: true, eos: false });
    expect(items.map((t) => t.token).slice(0, prompt.length - 1)).toEqual(prompt.slice(1));
    expect(items.map((t) => t.pos)).toEqual(items.map((_, i) => i));
    expect(items.map((t) => t.prompt)).toEqual(items.map((_, i) => i < prompt.length - 1));
    expect(items.length).toBe(12);
  });

  it('caps steps at seq_len like run.c', async () => {
    const r = await generateText({
      ...base(),
      steps: 100_000,
      sampler: new Sampler({ vocabSize: 512, temperature: 1, topp: 0, seed: 3 }),
    });
    expect(r.tokens.length).toBeLessThanOrEqual(512);
  });

  it('aborts with ABORTED, carrying the reason', async () => {
    const controller = new AbortController();
    const reason = new Error('user pressed stop');
    let seen = 0;
    const run = async () => {
      for await (const _ of generate({ ...base(), steps: 200, signal: controller.signal })) {
        if (++seen === 5) controller.abort(reason);
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'ABORTED', cause: reason });
    expect(seen).toBe(5);
  });

  it('an already-aborted signal stops before any forward pass', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await codeOf(() => generateText({ ...base(), steps: 10, signal: controller.signal }))).toBe(
      'ABORTED',
    );
  });

  it('rejects bad arguments with their codes before any work', async () => {
    expect(await codeOf(() => generateText({ ...base(), steps: 0 }))).toBe('BAD_STEPS');
    expect(await codeOf(() => generateText({ ...base(), steps: -1 }))).toBe('BAD_STEPS');
    expect(await codeOf(() => generateText({ ...base(), steps: 1.5 }))).toBe('BAD_STEPS');
    expect(
      await codeOf(() => generateText({ ...base(), steps: 10, prompt: 'once upon a time '.repeat(200) })),
    ).toBe('PROMPT_TOO_LONG');
    expect(await codeOf(() => generateText({ ...base(), tokenizer: tokenizer32k, steps: 10 }))).toBe(
      'TOKENIZER_VOCAB_MISMATCH',
    );
  });
});
