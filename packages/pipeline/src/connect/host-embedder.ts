/**
 * The host's embedder of a build whose plan keeps the embedding on the host (`embedding: 'host'`): its
 * host.tpimg (an image holding only the embedding, docs/image-format.md) read and checked against the
 * model and build the boards hold, as a `QuantStage` the pipeline embeds with.
 */
import { QuantStage, readImage } from '@tinypipe/core';
import { TinypipeError } from '@tinypipe/protocol';
import { identityBytes } from '../pipeline/from-plan.js';

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * `image` (the bytes of a build's host.tpimg) as the pipeline's `embedder`: validated completely
 * (`readImage`'s checks and codes), then WRONG_MODEL unless it holds the embedding of the model
 * `expect.fingerprint` names, MIXED_BUILD unless it carries `expect.build` (when given) and its SHA-256
 * is `expect.sha256` (the manifest's, when given).
 */
export function hostEmbedder(
  image: Uint8Array,
  expect: {
    fingerprint: Uint8Array | string;
    build?: Uint8Array | string | undefined;
    sha256?: string | undefined;
  },
): QuantStage {
  const contents = readImage(image);
  const h = contents.header;
  const fp = identityBytes(expect.fingerprint, 32, 'model fingerprint');
  if (!h.embedding || hex(h.fingerprint) !== hex(fp))
    throw new TinypipeError(
      'WRONG_MODEL',
      !h.embedding
        ? 'the host image holds no embedding: give the host.tpimg `tinypipe build` wrote for a plan with the embedding on the host'
        : `the host image holds model ${hex(h.fingerprint).slice(0, 16)}…, the boards ${hex(fp).slice(0, 16)}…: give the host.tpimg of this build`,
    );
  if (expect.build !== undefined) {
    const build = identityBytes(expect.build, 8, 'build id');
    if (hex(h.buildId) !== hex(build))
      throw new TinypipeError(
        'MIXED_BUILD',
        `the host image is of build ${hex(h.buildId)}, the boards of ${hex(build)}: give the host.tpimg of the boards' build`,
        { details: { expected: hex(build), actual: hex(h.buildId) } },
      );
  }
  if (expect.sha256 !== undefined && hex(contents.sha256) !== expect.sha256.toLowerCase())
    throw new TinypipeError(
      'MIXED_BUILD',
      `the host image's SHA-256 is ${hex(contents.sha256).slice(0, 16)}…, the manifest's ${expect.sha256.slice(0, 16)}…: give the host.tpimg of this build`,
    );
  return new QuantStage(contents.stage);
}
