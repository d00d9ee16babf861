/** Test helper: a pipeline's tokens for the stories prompt, sampled on the host or on the last board. */
import { Sampler } from '@tinypipe/core';
import { tokenizer } from '../testing/stories.test-helper.js';
import type { Pipeline } from './pipeline.js';

export const prompt = 'Once upon a time';

/**
 * The tokens `pipeline` generates from `prompt` in `steps` positions, at temperature 0.8 and top-p 0.9 with
 * `seed`, sampled by the host's `Sampler` or on the board (`sampling`); `each` sees the count after each token.
 */
export async function tokensOf(
  pipeline: Pipeline,
  steps: number,
  sampling: 'host' | 'board',
  seed = 5,
  each: (n: number) => void = () => {},
): Promise<number[]> {
  const got: number[] = [];
  for await (const t of pipeline.generate({
    tokenizer,
    ...(sampling === 'board'
      ? { sampling: { temperature: 0.8, topp: 0.9, seed } }
      : { sampler: new Sampler({ vocabSize: 512, temperature: 0.8, topp: 0.9, seed }) }),
    prompt,
    steps,
  })) {
    got.push(t.token);
    each(got.length);
  }
  return got;
}
