/**
 * The model most board tests run: stories260K (models/, with its 512-token tokenizer) and its q8 quantization,
 * read once per test file, and the prompt the stories start from.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { quantize, readCheckpoint, readTokenizer } from '@tinypipe/core';

export const models = fileURLToPath(new URL('../../../models/', import.meta.url));
export const checkpoint = readCheckpoint(new Uint8Array(readFileSync(join(models, 'stories260K.bin'))));
export const tokenizer = readTokenizer(new Uint8Array(readFileSync(join(models, 'tok512.bin'))), 512);
export const qm = quantize(checkpoint, { weights: 'q8' });
export const PROMPT = 'Once upon a time';
/** The prompt as token ids, BOS first: how board 0 of a ring takes it when it has no tokenizer. */
export const promptIds = tokenizer.encode(PROMPT, { bos: true, eos: false }).join(' ');
