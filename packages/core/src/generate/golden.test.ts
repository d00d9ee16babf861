/**
 * The goldens in /golden were produced by llama2.c's own run.c; the fp32 engine, tokenizer and sampler
 * must reproduce tokens and text exactly and logits within 1e-5 relative, through the WebAssembly SIMD
 * kernels and through the JavaScript reference.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint/read.js';
import { Fp32Engine } from '../engine/fp32-engine.js';
import { Sampler } from '../sampler/sampler.js';
import { readTokenizer } from '../tokenizer/tokenizer.js';
import { generateText } from './generate.js';

const repo = (p: string) => fileURLToPath(new URL(`../../../../${p}`, import.meta.url));

interface Golden {
  model: string;
  tokenizer: string;
  temperature: number;
  topp: number;
  seed: number;
  steps: number;
  prompt: string;
  prompt_tokens: number[];
  tokens: number[];
  text: string;
  logits?: number[][];
}

const files = readdirSync(repo('golden')).filter((f) => /^stories260K-.*\.json$/.test(f));

describe('fp32 engine reproduces llama2.c run.c', () => {
  it('finds the golden files', () => {
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  for (const [file, kernels] of files.flatMap((f) => (['wasm', 'js'] as const).map((k) => [f, k] as const))) {
    const g: Golden = JSON.parse(readFileSync(repo(`golden/${file}`), 'utf8'));
    it(`${file} (${kernels} kernels): tokens and text exactly, logits within 1e-5`, async () => {
      const checkpoint = readCheckpoint(new Uint8Array(readFileSync(repo(`models/${g.model}`))));
      const tokenizer = readTokenizer(
        new Uint8Array(readFileSync(repo(`models/${g.tokenizer}`))),
        checkpoint.config.vocabSize,
      );
      const engine = new Fp32Engine(checkpoint, { kernels });
      expect(engine.kernels).toBe(kernels); // Node 20 runs WebAssembly SIMD: no silent fallback
      const sampler = new Sampler({
        vocabSize: checkpoint.config.vocabSize,
        temperature: g.temperature,
        topp: g.topp,
        seed: g.seed,
      });
      const result = await generateText({ engine, tokenizer, sampler, prompt: g.prompt, steps: g.steps });
      expect(result.promptTokens).toEqual(g.prompt_tokens);
      expect(result.tokens).toEqual(g.tokens);
      expect(result.text).toBe(g.text);

      if (g.logits) {
        const fresh = new Fp32Engine(checkpoint, { kernels });
        const sequence = [1, ...g.tokens];
        g.logits.forEach((expected, pos) => {
          const got = fresh.forward(sequence[pos]!, pos);
          expect(got.length).toBe(expected.length);
          for (let i = 0; i < expected.length; i++) {
            const tol = 1e-5 * Math.max(1, Math.abs(expected[i]!));
            if (Math.abs(got[i]! - expected[i]!) > tol) {
              expect.fail(`pos ${pos} logit ${i}: ${got[i]} vs golden ${expected[i]}`);
            }
          }
        });
      }
    });
  }
});
