/**
 * Checking that an image is the one a plan or a peer expects (model identity and stage position).
 */
import { TinypipeError } from '@tinypipe/protocol';
import { fingerprintHex } from '../fingerprint/fingerprint.js';
import type { ImageExpectation, ImageHeader } from './types.js';

const range = (r: readonly [number, number] | undefined) => (r ? `[${r[0]}, ${r[1]})` : 'none');

/**
 * Throw `IMAGE_MISMATCH` unless `header` matches every field given in `expected` (model fingerprint,
 * layer range, embedding, classifier vocab range, quantization, KV cache format). The message lists every
 * difference.
 */
export function checkImageMatches(header: ImageHeader, expected: ImageExpectation): void {
  const diffs: string[] = [];
  if (expected.fingerprint !== undefined) {
    const want = fingerprintHex(expected.fingerprint);
    const got = fingerprintHex(header.fingerprint);
    if (want !== got) diffs.push(`model fingerprint is ${got.slice(0, 16)}…, expected ${want.slice(0, 16)}…`);
  }
  const lr = expected.layerRange;
  if (lr !== undefined && (lr[0] !== header.layerRange[0] || lr[1] !== header.layerRange[1])) {
    diffs.push(`layers are ${range(header.layerRange)}, expected ${range(lr)}`);
  }
  if (expected.embedding !== undefined && expected.embedding !== header.embedding) {
    diffs.push(
      `embedding is ${header.embedding ? 'present' : 'absent'}, expected ${expected.embedding ? 'present' : 'absent'}`,
    );
  }
  const vocab = expected.vocab ?? expected.vocabRange;
  if (vocab !== undefined) {
    const want = vocab === false ? undefined : vocab;
    const got = header.vocab;
    if (want?.[0] !== got?.[0] || want?.[1] !== got?.[1]) {
      diffs.push(`classifier vocab range is ${range(got)}, expected ${range(want)}`);
    }
  }
  if (expected.kind !== undefined && expected.kind !== header.kind) {
    diffs.push(`quantization is ${header.kind}, expected ${expected.kind}`);
  }
  if (expected.groupSize !== undefined && expected.groupSize !== header.groupSize) {
    diffs.push(`group size is ${header.groupSize}, expected ${expected.groupSize}`);
  }
  if (expected.kv !== undefined && expected.kv !== header.kv) {
    diffs.push(`KV cache format is ${header.kv}, expected ${expected.kv}`);
  }
  if (diffs.length > 0) {
    throw new TinypipeError(
      'IMAGE_MISMATCH',
      `weight image does not match what this stage needs: ${diffs.join('; ')}. Flash the image built for this stage of this model.`,
      { details: { differences: diffs } },
    );
  }
}
