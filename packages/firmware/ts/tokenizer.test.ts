/**
 * The firmware's tokenizer (src/tokenizer.c) on the host build: every golden and fast-check batches equal
 * the TS tokenizer (tokenizer-suite.test-helper.ts), and a section that breaks a rule is refused at load.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tokenizerSection } from '@tinypipe/core';
import { describe, expect, it } from 'vitest';
import { buildPosixBoard } from './build.js';
import { tmp } from './helpers.test-helper.js';
import { hostRunner, sectionFile } from './tokenizer.test-helper.js';
import { tokenizerSuite, tokenizers } from './tokenizer-suite.test-helper.js';

tokenizerSuite(hostRunner, 25, 60);

describe('tp_tokenizer_init refuses a section that breaks a rule', () => {
  const good = tokenizerSection(tokenizers['tok512.bin']);
  const swapped = good.sorted.slice();
  [swapped[100], swapped[101]] = [swapped[101]!, swapped[100]!];
  const cases: [string, Parameters<typeof sectionFile>[0]][] = [
    ['two sorted entries swapped', { ...good, sorted: swapped }],
    [
      'a sorted entry repeated',
      { ...good, sorted: good.sorted.map((id, i) => (i === 7 ? good.sorted[8]! : id)) },
    ],
    [
      'a sorted id past the vocabulary',
      { ...good, sorted: good.sorted.map((id, i) => (i === 3 ? 512 : id)) },
    ],
    ['a piece longer than max_token_length', { ...good, maxTokenLength: 1 }],
    ['offsets not from 0', { ...good, offsets: good.offsets.map((o, i) => (i === 0 ? 1 : o)) }],
    ['offsets decreasing', { ...good, offsets: good.offsets.map((o, i) => (i === 300 ? o + 9 : o)) }],
    ['max_token_length 0', { ...good, maxTokenLength: 0 }],
  ];
  for (const [name, section] of cases) {
    it(`${name} → IMAGE_BAD_TABLE`, () => {
      const file = join(tmp, 'bad-section.bin');
      writeFileSync(file, sectionFile(section));
      const exe = join(buildPosixBoard().dir, 'tp-tokenizer');
      let out = '';
      let status = 0;
      try {
        execFileSync(exe, ['section', file, file, join(tmp, 'bad-out.bin')], { stdio: 'pipe' });
      } catch (e) {
        const err = e as { status: number; stdout: Buffer };
        status = err.status;
        out = err.stdout.toString();
      }
      expect(status).toBe(1);
      expect(out).toContain('IMAGE_BAD_TABLE');
    });
  }
});
