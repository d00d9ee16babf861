/**
 * The model fingerprint: SHA-256 over a canonical serialization of a checkpoint's fp32 weights,
 * independent of the file format they were read from (docs/image-format.md §2).
 *
 *   int32 LE  magic    0x70667074 ("tpfp")
 *   int32 LE  version  1
 *   int32 LE  dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size (always positive), seq_len
 *   int32 LE  shared_classifier (0 or 1)
 *   fp32 LE   token_embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, [wcls]
 *             (llama2.c v0 order; wcls only when not shared; the RoPE tables are not weights)
 *
 * Values are hashed as raw IEEE binary32 bit patterns (so -0 and 0 differ, as they do on disk).
 */
import { sha256 } from '@noble/hashes/sha256';
import { TinypipeError } from '@tinypipe/protocol';
import { V0_WEIGHT_ORDER } from '../checkpoint/layout.js';
import type { Checkpoint } from '../checkpoint/types.js';
import { tensorSizes } from '../checkpoint/types.js';

/** First int32 of the canonical serialization: the ASCII bytes "tpfp" read little-endian. */
export const FINGERPRINT_MAGIC = 0x70667074;
/** Version of the canonical serialization; bump it if the byte stream above ever changes. */
export const FINGERPRINT_VERSION = 1;
/** Length of a model fingerprint in bytes. */
export const FINGERPRINT_BYTES = 32;

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Bytes hashed per update when a tensor must be byte-swapped (big-endian hosts only). */
const SWAP_CHUNK_FLOATS = 16384;

/**
 * SHA-256 fingerprint of a model's fp32 weights (32 bytes). The same weights read from a llama2.c
 * v0 or v1 file give the same fingerprint. Weight images and the link handshake carry it so a board
 * can refuse weights or peers that belong to another model.
 *
 * Hashes tensor by tensor from the existing arrays: no copy of the model is made.
 *
 * @throws TinypipeError `INVALID_ARGUMENT` when a tensor's length does not match the config.
 */
export function modelFingerprint(checkpoint: Pick<Checkpoint, 'config' | 'weights'>): Uint8Array {
  const { config, weights } = checkpoint;
  const sizes = tensorSizes(config);
  const hash = sha256.create();

  const header = new DataView(new ArrayBuffer(10 * 4)); // (10) int32
  const ints = [
    FINGERPRINT_MAGIC,
    FINGERPRINT_VERSION,
    config.dim,
    config.hiddenDim,
    config.nLayers,
    config.nHeads,
    config.nKvHeads,
    config.vocabSize,
    config.seqLen,
    config.sharedClassifier ? 1 : 0,
  ];
  for (const [i, v] of ints.entries()) header.setInt32(i * 4, v, true);
  hash.update(new Uint8Array(header.buffer));

  const swap = LITTLE_ENDIAN_HOST ? undefined : new DataView(new ArrayBuffer(SWAP_CHUNK_FLOATS * 4));
  for (const name of V0_WEIGHT_ORDER) {
    const expected = sizes[name];
    if (expected === 0) continue; // shared classifier
    const t = weights[name];
    if (t.length !== expected) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `modelFingerprint: tensor ${name} has ${t.length} values, expected ${expected} for this config; ` +
          'pass the weights that belong to the config.',
        { details: { tensor: name, expected, actual: t.length } },
      );
    }
    if (swap === undefined) {
      hash.update(new Uint8Array(t.buffer, t.byteOffset, t.byteLength));
    } else {
      for (let start = 0; start < t.length; start += SWAP_CHUNK_FLOATS) {
        const n = Math.min(SWAP_CHUNK_FLOATS, t.length - start);
        for (let i = 0; i < n; i++) swap.setFloat32(i * 4, t[start + i] as number, true);
        hash.update(new Uint8Array(swap.buffer, 0, n * 4));
      }
    }
  }
  return hash.digest();
}

/** Lower-case hex of a fingerprint (or any bytes), for messages and manifests. */
export function fingerprintHex(fp: Uint8Array): string {
  let s = '';
  for (let i = 0; i < fp.length; i++) s += (fp[i] as number).toString(16).padStart(2, '0');
  return s;
}

/** First int32 of the quantized-model fingerprint's stream: the ASCII bytes "tpqf" read little-endian. */
export const QUANT_FINGERPRINT_MAGIC = 0x66717074;

/**
 * The fingerprint images and the handshake carry: SHA-256 over "tpqf", version 1, the model
 * fingerprint, `quant_bits` (4 or 8) and `group_size`, all int32 LE but the 32 fingerprint bytes
 * (docs/image-format.md §2). q4 and q8 images of one model (or two group sizes) are never mistaken
 * for each other: a board holding the other quantization is refused at the handshake (`WRONG_MODEL`).
 */
export function quantFingerprint(model: Uint8Array, kind: 'q4' | 'q8', groupSize: number): Uint8Array {
  const head = new DataView(new ArrayBuffer(8));
  head.setInt32(0, QUANT_FINGERPRINT_MAGIC, true);
  head.setInt32(4, 1, true);
  const tail = new DataView(new ArrayBuffer(8));
  tail.setInt32(0, kind === 'q4' ? 4 : 8, true);
  tail.setInt32(4, groupSize, true);
  return sha256
    .create()
    .update(new Uint8Array(head.buffer))
    .update(model)
    .update(new Uint8Array(tail.buffer))
    .digest();
}
