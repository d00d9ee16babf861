/**
 * Reading a weight image: full validation, then zero-copy views of its tensors.
 */
import { sha256 } from '@noble/hashes/sha256';
import { TinypipeError } from '@tinypipe/protocol';
import { quantRows } from '../quant/slice.js';
import type { QuantLayer, QuantTensor, StageWeights } from '../quant/types.js';
import { withVocabRangeAlias } from '../quant/vocab-alias.js';
import type { Tokenizer } from '../tokenizer/tokenizer.js';
import { type CheckSink, inspectImage } from './inspect.js';
import { readStorySection, type StoryDefaults } from './story-section.js';
import { readTokenizerSection } from './tokenizer-section.js';
import type { ImageCheck, ImageContents, ImageHeader, ImageReport, ImageTensorEntry } from './types.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const throwing: CheckSink = {
  pass() {},
  fail(_check, error) {
    throw error;
  },
};

/** The stage's weights as typed-array views into `bytes` (already validated). */
function stageViews(
  bytes: Uint8Array,
  header: ImageHeader,
  tensors: readonly ImageTensorEntry[],
): StageWeights {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const at = (name: string): ImageTensorEntry => byName.get(name) as ImageTensorEntry;
  const base = bytes.byteOffset;
  const f32 = (name: string): Float32Array => {
    const t = at(name);
    return new Float32Array(bytes.buffer, base + t.offset, t.byteLength / 4);
  };
  const quant = (name: string): QuantTensor => {
    const d = at(`${name}.data`);
    const s = at(`${name}.scales`);
    return {
      kind: header.kind,
      rows: d.shape[0] as number,
      cols: d.shape[1] as number,
      groupSize: header.groupSize,
      data: bytes.subarray(d.offset, d.offset + d.byteLength),
      scales: new Uint16Array(bytes.buffer, base + s.offset, s.byteLength / 2),
    };
  };
  const [from, to] = header.layerRange;
  const layers: QuantLayer[] = [];
  for (let l = from; l < to; l++) {
    const p = `layers.${l}`;
    layers.push({
      rmsAtt: f32(`${p}.rms_att`),
      wq: quant(`${p}.wq`),
      wk: quant(`${p}.wk`),
      wv: quant(`${p}.wv`),
      wo: quant(`${p}.wo`),
      rmsFfn: f32(`${p}.rms_ffn`),
      w1: quant(`${p}.w1`),
      w2: quant(`${p}.w2`),
      w3: quant(`${p}.w3`),
    });
  }
  const embedding = header.embedding ? quant('embedding') : undefined;
  const vr = header.vocab;
  return {
    config: header.config,
    kind: header.kind,
    groupSize: header.groupSize,
    fingerprint: header.fingerprint,
    kv: header.kv,
    layerRange: [from, to],
    layers,
    ...(embedding ? { embedding } : {}),
    ...(vr
      ? {
          classifier: withVocabRangeAlias({
            rmsFinal: f32('rms_final'),
            wcls: byName.has('classifier.data')
              ? quant('classifier')
              : quantRows(embedding as QuantTensor, vr[0], vr[1]),
            vocab: vr,
          }),
        }
      : {}),
    ...(to > from ? { rope: { cos: f32('rope.cos'), sin: f32('rope.sin') } } : {}),
  };
}

/**
 * Validate a weight image completely and return its header, tensor table, weights and SHA-256.
 *
 * Checks, in this order, throwing the first failure as a `TinypipeError`:
 * `IMAGE_TRUNCATED` (shorter than the header), `IMAGE_BAD_MAGIC`, `IMAGE_BAD_VERSION`,
 * `IMAGE_BAD_HEADER` / `IMAGE_BAD_RANGE` (field values), `IMAGE_TRUNCATED` (shorter than the table),
 * `IMAGE_HEADER_CRC`, `IMAGE_BAD_TABLE`, `IMAGE_TRUNCATED` / `IMAGE_SIZE_MISMATCH` (total size),
 * `IMAGE_TENSOR_CRC` (naming the tensor), `IMAGE_BAD_PADDING`, then `IMAGE_BAD_TABLE` when the tokenizer
 * section is inconsistent (docs/image-format.md §4b; its `Tokenizer` is `tokenizer`), `IMAGE_BAD_TABLE` when
 * the story defaults break a rule (§4c; they are `story`).
 *
 * The returned `stage` holds zero-copy views into `bytes` (mutating `bytes` changes it), except when
 * `bytes.byteOffset` is not a multiple of 4: then the image is copied once so fp32/fp16 views are aligned.
 */
export function readImage(bytes: Uint8Array): ImageContents {
  if (!LITTLE_ENDIAN_HOST) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      'readImage: weight images are read through typed-array views, which need a little-endian host.',
    );
  }
  const { header, tensors } = inspectImage(bytes, throwing);
  // inspectImage with a throwing sink returns both or throws.
  const h = header as ImageHeader;
  const t = tensors as readonly ImageTensorEntry[];
  // A fresh copy (not `slice`, which on a Node Buffer is a view) when fp32 views would be misaligned.
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
  const tokenizer = readTokenizerSection(aligned, h, t);
  const story = readStorySection(aligned, h, t);
  return {
    header: h,
    tensors: t,
    stage: stageViews(aligned, h, t),
    sha256: sha256(bytes),
    ...(tokenizer ? { tokenizer } : {}),
    ...(story ? { story } : {}),
  };
}

/** The shortest decimal that reads back as this binary32 value (0.8, not 0.800000011920929). */
function f32(v: number): string {
  for (let p = 1; p < 9; p++)
    if (Math.fround(Number(v.toPrecision(p))) === v) return String(Number(v.toPrecision(p)));
  return String(v);
}

/**
 * Run every check `readImage` runs and report each one (for `tinypipe image inspect`): unlike
 * `readImage` it does not stop at the first failure where later checks still mean something
 * (every tensor's CRC is checked and reported, even after a failed one). Never throws for bad bytes.
 */
export function verifyImage(bytes: Uint8Array): ImageReport {
  const checks: ImageCheck[] = [];
  const sink: CheckSink = {
    pass(check, message) {
      checks.push({ check, ok: true, message });
    },
    fail(check, error: TinypipeError) {
      checks.push({ check, ok: false, message: error.message, code: error.code });
    },
  };
  const { header, tensors } = inspectImage(bytes, sink);
  if (header?.tokenizer && tensors && checks.every((c) => c.ok)) {
    try {
      const aligned = bytes.byteOffset % 4 === 0 ? bytes : new Uint8Array(bytes);
      const tok = readTokenizerSection(aligned, header, tensors) as Tokenizer;
      sink.pass('tokenizer', `tokenizer: ${tok.vocabSize} tokens, max_token_length ${tok.maxTokenLength}`);
    } catch (e) {
      if (!TinypipeError.isInstance(e)) throw e;
      sink.fail('tokenizer', e);
    }
  }
  if (header?.story && tensors && checks.every((c) => c.ok)) {
    try {
      const s = readStorySection(bytes, header, tensors) as StoryDefaults;
      sink.pass(
        'story',
        `story defaults: prompt ${JSON.stringify(s.prompt)}, ${s.steps} steps, temperature ${f32(s.temperature)}, ` +
          `topp ${f32(s.topp)}, seed ${s.seed}, ${s.parallel} at once`,
      );
    } catch (e) {
      if (!TinypipeError.isInstance(e)) throw e;
      sink.fail('story', e);
    }
  }
  return {
    ok: checks.length > 0 && checks.every((c) => c.ok) && tensors !== undefined,
    checks,
    ...(header ? { header } : {}),
    ...(tensors ? { tensors } : {}),
    sha256: sha256(bytes),
    byteLength: bytes.length,
  };
}
