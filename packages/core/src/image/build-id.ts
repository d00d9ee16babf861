/**
 * The build id in a version-2 image header (docs/image-format.md §3, §8): read it, stamp it, and zero
 * it again — what `tinypipe build` does to every board's image and what anyone re-checking a build id
 * does first (the id is computed over the images as built with a zero id).
 */
import { TinypipeError } from '@tinypipe/protocol';
import { HEADER, IMAGE_BUILD_ID_BYTES, IMAGE_HEADER_BYTES } from './format.js';
import { checkMagic, checkVersion, computeHeaderCrc, decodeHeader, tableEnd } from './header.js';

function header(image: Uint8Array) {
  if (image.length < IMAGE_HEADER_BYTES)
    throw new TinypipeError(
      'IMAGE_TRUNCATED',
      `a weight image is at least ${IMAGE_HEADER_BYTES} bytes, this one ${image.length}: pass a whole image`,
    );
  const dv = new DataView(image.buffer, image.byteOffset, image.byteLength);
  checkMagic(dv);
  checkVersion(dv);
  return decodeHeader(image);
}

/** The 8-byte build id of an image's header (all zero: none, and always in a version-1 image). */
export function imageBuildId(image: Uint8Array): Uint8Array {
  const h = header(image);
  return h.buildId;
}

/**
 * A copy of a version-2 `image` whose header carries `buildId` (8 bytes; all zero removes it), with the
 * header CRC recomputed. Nothing else changes, so the tensors and their CRCs stay as they are.
 *
 * @throws TinypipeError `IMAGE_BAD_VERSION` for a version-1 image (it has no build id field),
 *   `INVALID_ARGUMENT` when `buildId` is not 8 bytes, and what `readImage` throws for a bad header.
 */
export function stampBuildId(image: Uint8Array, buildId: Uint8Array): Uint8Array {
  if (buildId.length !== IMAGE_BUILD_ID_BYTES)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `a build id is ${IMAGE_BUILD_ID_BYTES} bytes, not ${buildId.length}`,
    );
  const h = header(image);
  if (h.version < 2)
    throw new TinypipeError(
      'IMAGE_BAD_VERSION',
      `a version-${h.version} image has no build id field: rebuild it with this tinypipe (version 2)`,
      { details: { expected: 2, actual: h.version } },
    );
  const end = tableEnd(h.tensorCount);
  if (image.length < end)
    throw new TinypipeError(
      'IMAGE_TRUNCATED',
      `the image ends at ${image.length}, before the end of its tensor table (${end})`,
    );
  const out = new Uint8Array(image);
  out.set(buildId, HEADER.buildId);
  new DataView(out.buffer).setUint32(HEADER.headerCrc, computeHeaderCrc(out, end), true);
  return out;
}

/** `image` as it was before `stampBuildId`: build id zero, header CRC recomputed. */
export function unstampBuildId(image: Uint8Array): Uint8Array {
  return stampBuildId(image, new Uint8Array(IMAGE_BUILD_ID_BYTES));
}
