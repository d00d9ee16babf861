/**
 * `readCheckpoint`: llama2.c checkpoint bytes → `Checkpoint`, validating everything before any use.
 * Formats: ./layout.ts.
 */
import { TinypipeError } from '@tinypipe/protocol';
import {
  CHECKPOINT_MAGIC,
  type CheckpointLayout,
  checkpointLayout,
  type TensorSpan,
  V0_HEADER_BYTES,
  V12_HEADER_BYTES,
} from './layout.js';
import type { Checkpoint, CheckpointVersion, ModelConfig, ModelWeights } from './types.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Magics of files people mistake for checkpoints, with what to do instead. */
const FOREIGN_MAGICS: Record<string, string> = {
  TPIM: 'this is a @tinypipe weight image, not a checkpoint: inspect it with `tinypipe image inspect`',
  GGUF: 'this is a GGUF (llama.cpp) file: export the model with llama2.c export.py instead',
  PK: 'this is a zip archive (a PyTorch .pt?): export it with llama2.c export.py (--version 0 or 1)',
};

/**
 * Reads a llama2.c checkpoint: v0 (legacy, what run.c reads), v1 (fp32, "ak42" header) or v2 (Q8_0).
 *
 * fp32 tensors are zero-copy `Float32Array` views into `bytes` when their offset is 4-byte aligned
 * (always true for a freshly read file); they are copied otherwise. v2 tensors are dequantized to fp32
 * (`w = q × scale` in binary32, as llama2.c's runq.c does).
 *
 * @throws TinypipeError CHECKPOINT_TRUNCATED, CHECKPOINT_BAD_MAGIC, CHECKPOINT_BAD_VERSION,
 *   CHECKPOINT_BAD_HEADER, CHECKPOINT_SIZE_MISMATCH — each message says expected vs actual.
 */
export function readCheckpoint(bytes: Uint8Array): Checkpoint {
  if (!LITTLE_ENDIAN_HOST) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      'llama2.c checkpoints are little-endian; big-endian hosts are not supported',
    );
  }
  const { config, version, groupSize } = readHeader(bytes);
  const layout = checkpointLayout(config, version, groupSize);
  if (layout.fileBytes !== bytes.length) {
    const hint =
      bytes.length < layout.fileBytes
        ? 'the file is incomplete (interrupted download or copy?): fetch it again'
        : 'the file is longer than its header says: it is not this llama2.c format/version, or the header was damaged';
    throw new TinypipeError(
      'CHECKPOINT_SIZE_MISMATCH',
      `llama2.c v${version} checkpoint of this shape must be ${layout.fileBytes.toLocaleString('en-US')} bytes, ` +
        `the file has ${bytes.length.toLocaleString('en-US')}: ${hint}`,
      { details: { expected: layout.fileBytes, actual: bytes.length, version } },
    );
  }
  return {
    config,
    weights: readWeights(bytes, config, layout, groupSize),
    source: version === 2 ? { version, groupSize } : { version },
  };
}

interface Header {
  config: ModelConfig;
  version: CheckpointVersion;
  groupSize: number;
}

function truncated(needed: number, actual: number, what: string): TinypipeError {
  return new TinypipeError(
    'CHECKPOINT_TRUNCATED',
    `file too short for a llama2.c checkpoint ${what}: needs at least ${needed} bytes, has ${actual}`,
    { details: { expected: needed, actual } },
  );
}

function readHeader(bytes: Uint8Array): Header {
  if (bytes.length < 4) throw truncated(V0_HEADER_BYTES, bytes.length, 'header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const first = view.getUint32(0, true);

  if (first !== CHECKPOINT_MAGIC) {
    checkForeignMagic(bytes);
    if (bytes.length < V0_HEADER_BYTES) throw truncated(V0_HEADER_BYTES, bytes.length, 'v0 header');
    const ints = readInts(view, 0);
    const signedVocab = ints[5]!;
    ints[5] = Math.abs(signedVocab);
    return { config: validateConfig(ints, signedVocab > 0), version: 0, groupSize: 0 };
  }

  if (bytes.length < 8) throw truncated(8, bytes.length, 'version field');
  const version = view.getInt32(4, true);
  if (version !== 1 && version !== 2) {
    throw new TinypipeError(
      'CHECKPOINT_BAD_VERSION',
      `llama2.c checkpoint version ${version} is not supported (known: 0 = legacy, 1 = fp32, 2 = Q8_0); ` +
        're-export the model with llama2.c export.py --version 1',
      { details: { version } },
    );
  }
  if (bytes.length < V12_HEADER_BYTES) throw truncated(V12_HEADER_BYTES, bytes.length, `v${version} header`);
  const ints = readInts(view, 8);
  const sharedFlag = view.getUint8(36);
  if (sharedFlag > 1) badHeader('shared_classifier', sharedFlag, 'must be 0 or 1');
  if (ints[5]! < 0) badHeader('vocab_size', ints[5]!, 'must be positive in v1/v2 headers');
  const config = validateConfig(ints, sharedFlag === 1);
  if (version === 1) return { config, version, groupSize: 0 };

  const groupSize = view.getInt32(37, true);
  if (groupSize <= 0) badHeader('group_size', groupSize, 'must be positive');
  for (const span of checkpointLayout(config, 2, 1).tensors) {
    if (span.dtype === 'q8_0' && span.count % groupSize !== 0) {
      badHeader('group_size', groupSize, `must divide the ${span.count} values of ${span.name}`);
    }
  }
  return { config, version, groupSize };
}

function checkForeignMagic(bytes: Uint8Array): void {
  const tag = String.fromCharCode(...bytes.subarray(0, 4));
  for (const [magic, hint] of Object.entries(FOREIGN_MAGICS)) {
    if (tag.startsWith(magic)) {
      throw new TinypipeError('CHECKPOINT_BAD_MAGIC', `not a llama2.c checkpoint: ${hint}`, {
        details: { magic: tag },
      });
    }
  }
  // A v0 file starts with dim; four printable letters/digits would mean dim ≥ 0x30303030 (808 million).
  if (/^[A-Za-z0-9]{4}$/.test(tag)) {
    throw new TinypipeError(
      'CHECKPOINT_BAD_MAGIC',
      `not a llama2.c checkpoint: it starts with the magic "${tag}" (v1/v2 checkpoints start with "ak42" ` +
        'stored as 0x616b3432, v0 with the model dim)',
      { details: { magic: tag } },
    );
  }
}

function readInts(view: DataView, at: number): number[] {
  const ints: number[] = [];
  for (let i = 0; i < 7; i++) ints.push(view.getInt32(at + 4 * i, true));
  return ints;
}

function badHeader(field: string, value: number, rule: string): never {
  throw new TinypipeError('CHECKPOINT_BAD_HEADER', `bad checkpoint header: ${field} = ${value} ${rule}`, {
    details: { field, value, rule },
  });
}

const FIELDS = ['dim', 'hidden_dim', 'n_layers', 'n_heads', 'n_kv_heads', 'vocab_size', 'seq_len'] as const;

function validateConfig(ints: readonly number[], sharedClassifier: boolean): ModelConfig {
  FIELDS.forEach((field, i) => {
    if (ints[i]! <= 0) badHeader(field, ints[i]!, 'must be positive');
  });
  const [dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen] = ints as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (dim % nHeads !== 0) badHeader('n_heads', nHeads, `must divide dim = ${dim}`);
  if (nHeads % nKvHeads !== 0) badHeader('n_kv_heads', nKvHeads, `must divide n_heads = ${nHeads}`);
  if ((dim / nHeads) % 2 !== 0)
    badHeader(
      'n_heads',
      nHeads,
      `must leave an even head size (dim / n_heads = ${dim / nHeads}; RoPE rotates pairs)`,
    );
  return { dim, hiddenDim, nLayers, nHeads, nKvHeads, vocabSize, seqLen, sharedClassifier };
}

function readWeights(
  bytes: Uint8Array,
  config: ModelConfig,
  layout: CheckpointLayout,
  groupSize: number,
): ModelWeights {
  const found = new Map<string, Float32Array>();
  for (const span of layout.tensors) {
    if (span.name === 'freqCisReal' || span.name === 'freqCisImag') continue;
    found.set(
      span.name,
      span.dtype === 'f32' ? f32(bytes, span.offset, span.count) : dequantizeQ80(bytes, span, groupSize),
    );
  }
  const get = (name: keyof ModelWeights): Float32Array => found.get(name)!;
  const tokenEmbedding = get('tokenEmbedding');
  return {
    tokenEmbedding,
    rmsAtt: get('rmsAtt'),
    wq: get('wq'),
    wk: get('wk'),
    wv: get('wv'),
    wo: get('wo'),
    rmsFfn: get('rmsFfn'),
    w1: get('w1'),
    w2: get('w2'),
    w3: get('w3'),
    rmsFinal: get('rmsFinal'),
    wcls: config.sharedClassifier ? tokenEmbedding : get('wcls'),
  };
}

/** fp32 values at `offset`: a view when aligned, else a copy. */
function f32(bytes: Uint8Array, offset: number, count: number): Float32Array {
  const at = bytes.byteOffset + offset;
  if (at % 4 === 0) return new Float32Array(bytes.buffer, at, count);
  // a fresh copy: `slice` on a Node Buffer is a view, whose `.buffer` is the whole (misaligned) store
  const copy = new Uint8Array(count * 4);
  copy.set(bytes.subarray(offset, offset + count * 4));
  return new Float32Array(copy.buffer);
}

/** Q8_0: int8[n] then fp32[n / groupSize]; w = fl(q × scale). */
function dequantizeQ80(bytes: Uint8Array, span: TensorSpan, groupSize: number): Float32Array {
  const n = span.count;
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + span.offset, n); // (n)
  const scales = f32(bytes, span.offset + n, n / groupSize); // (n / group_size)
  const out = new Float32Array(n); // (n)
  for (let g = 0, i = 0; g < scales.length; g++) {
    const s = scales[g]!;
    for (let end = i + groupSize; i < end; i++) out[i] = q[i]! * s;
  }
  return out;
}
