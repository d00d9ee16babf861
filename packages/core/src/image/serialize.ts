/**
 * Writing a stage's weights as one weight image (docs/image-format.md).
 */
import { crc32c, isKvFormat, KV_FORMATS, TinypipeError } from '@tinypipe/protocol';
import { FINGERPRINT_BYTES } from '../fingerprint/fingerprint.js';
import { quantRows, sliceStageWeights } from '../quant/slice.js';
import type { QuantizedModel, QuantTensor, StageWeights } from '../quant/types.js';
import {
  classifierAliasesEmbedding,
  HEADER,
  IMAGE_BUILD_ID_BYTES,
  IMAGE_ENTRY_BYTES,
  IMAGE_HEADER_BYTES,
  planImage,
  type StageLayout,
  type TensorSpec,
} from './format.js';
import { computeHeaderCrc, encodeHeader } from './header-encode.js';
import { stageLayout } from './stage.js';
import { encodeStory } from './story-section.js';
import { encodeEntry } from './table.js';
import { tokenizerTensors } from './tokenizer-section.js';
import type { ImageOptions, StageSelection } from './types.js';

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function invalid(what: string, details: Record<string, unknown> = {}): TinypipeError {
  return new TinypipeError('INVALID_ARGUMENT', `serializeStage: ${what}.`, { details });
}

const bytesOf = (a: Float32Array | Uint16Array): Uint8Array =>
  new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

/** name → bytes of every tensor the stage holds, checking each against its spec. */
function collectSources(
  stage: StageWeights,
  layout: StageLayout,
  specs: readonly TensorSpec[],
): Uint8Array[] {
  const byName = new Map<string, Float32Array | QuantTensor>();
  if (stage.embedding) byName.set('embedding', stage.embedding);
  if (stage.rope) {
    byName.set('rope.cos', stage.rope.cos);
    byName.set('rope.sin', stage.rope.sin);
  }
  const [from] = stage.layerRange;
  stage.layers.forEach((L, i) => {
    const p = `layers.${from + i}`;
    byName.set(`${p}.rms_att`, L.rmsAtt);
    byName.set(`${p}.wq`, L.wq);
    byName.set(`${p}.wk`, L.wk);
    byName.set(`${p}.wv`, L.wv);
    byName.set(`${p}.wo`, L.wo);
    byName.set(`${p}.rms_ffn`, L.rmsFfn);
    byName.set(`${p}.w1`, L.w1);
    byName.set(`${p}.w3`, L.w3);
    byName.set(`${p}.w2`, L.w2);
  });
  if (stage.classifier) {
    byName.set('rms_final', stage.classifier.rmsFinal);
    if (!classifierAliasesEmbedding(layout)) byName.set('classifier', stage.classifier.wcls);
  }

  return specs.map((spec) => {
    const dot = spec.name.lastIndexOf('.');
    const part = spec.name.slice(dot + 1);
    if (part === 'data' || part === 'scales') {
      const base = spec.name.slice(0, dot);
      const t = byName.get(base);
      if (t === undefined || t instanceof Float32Array)
        throw invalid(`the stage has no quantized tensor ${base}`);
      const [rows, cols] = spec.name.endsWith('.data')
        ? (spec.shape as [number, number])
        : [spec.shape[0] as number, 0];
      if (
        t.kind !== layout.kind ||
        t.groupSize !== layout.groupSize ||
        t.rows !== rows ||
        (part === 'data' && t.cols !== cols)
      ) {
        throw invalid(
          `${base} is ${t.kind} g${t.groupSize} (${t.rows}, ${t.cols}), expected ${layout.kind} g${layout.groupSize} ` +
            `with ${rows} rows${part === 'data' ? ` and ${cols} columns` : ''}`,
          { tensor: base },
        );
      }
      const src = part === 'data' ? t.data : bytesOf(t.scales);
      if (src.byteLength !== spec.byteLength) {
        throw invalid(`${spec.name} holds ${src.byteLength} bytes, expected ${spec.byteLength}`, {
          tensor: spec.name,
          expected: spec.byteLength,
          actual: src.byteLength,
        });
      }
      return src;
    }
    const t = byName.get(spec.name);
    if (!(t instanceof Float32Array)) throw invalid(`the stage has no fp32 tensor ${spec.name}`);
    if (t.byteLength !== spec.byteLength) {
      throw invalid(`${spec.name} holds ${t.length} floats, expected ${spec.byteLength / 4}`, {
        tensor: spec.name,
        expected: spec.byteLength / 4,
        actual: t.length,
      });
    }
    return bytesOf(t);
  });
}

/** Same bytes: true at once for two views of the same memory, else compared byte by byte. */
function sameView(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  if (a.buffer === b.buffer && a.byteOffset === b.byteOffset) return true;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Serialize one stage as a weight image: header, tensor table, then each tensor 16-byte aligned
 * with zero padding, in the order docs/image-format.md §4 lists. Deterministic: the same stage
 * always gives the same bytes.
 *
 * With a shared classifier and the embedding on the same stage, the classifier rows are not stored
 * twice: they must equal rows `[v0, v1)` of the embedding (checked).
 *
 * @throws TinypipeError `IMAGE_BAD_RANGE` for ranges outside the model, `INVALID_ARGUMENT` when a
 *   tensor's kind, shape or length disagrees with the stage's config, `TOKENIZER_VOCAB_MISMATCH` when
 *   `options.tokenizer` is not of the model's vocabulary size, `INVALID_ARGUMENT` for `options.story`
 *   settings the readers would refuse (docs/image-format.md §4c).
 */
export function serializeStage(stage: StageWeights, options: ImageOptions = {}): Uint8Array {
  if (!LITTLE_ENDIAN_HOST) throw invalid('weight images can only be written on a little-endian host');
  const tok = options.tokenizer && tokenizerTensors(options.tokenizer, stage.config.vocabSize);
  const story = options.story && encodeStory(options.story, stage.config.seqLen);
  const layout: StageLayout = {
    ...stageLayout(stage),
    ...(tok ? { tokenizer: tok.layout } : {}),
    ...(story ? { story: { bytes: story.length } } : {}),
  };
  const [from, to] = stage.layerRange;
  if (stage.layers.length !== to - from) {
    throw invalid(
      `layerRange [${from}, ${to}) needs ${to - from} layers, the stage has ${stage.layers.length}`,
    );
  }
  if (stage.fingerprint.length !== FINGERPRINT_BYTES) {
    throw invalid(`fingerprint is ${stage.fingerprint.length} bytes, expected ${FINGERPRINT_BYTES}`);
  }
  if (options.buildId !== undefined && options.buildId.length !== IMAGE_BUILD_ID_BYTES) {
    throw invalid(`buildId is ${options.buildId.length} bytes, expected ${IMAGE_BUILD_ID_BYTES}`);
  }
  if (to > from && stage.rope === undefined) throw invalid('a stage with layers needs the RoPE table');
  const kv = options.kv ?? stage.kv ?? 'fp32';
  if (!isKvFormat(kv))
    throw invalid(`KV format ${JSON.stringify(kv)} is not one of ${KV_FORMATS.join(', ')}`);
  if (stage.kv !== undefined && kv !== stage.kv)
    throw invalid(`options.kv is ${kv} but the stage is built for a ${stage.kv} KV cache`);
  if (stage.classifier) {
    const [v0, v1] = stage.classifier.vocab;
    if (stage.classifier.wcls.rows !== v1 - v0) {
      throw invalid(
        `classifier has ${stage.classifier.wcls.rows} rows, its vocab range [${v0}, ${v1}) needs ${v1 - v0}`,
      );
    }
  }

  const plan = planImage(layout);
  const specs = plan.tensors;
  const sections = [...(tok?.sources ?? []), ...(story ? [story] : [])]; // at the end of the table
  const sources = [
    ...collectSources(stage, layout, specs.slice(0, specs.length - sections.length)),
    ...sections,
  ];
  const cls = stage.classifier;
  if (cls && stage.embedding && classifierAliasesEmbedding(layout)) {
    const rows = quantRows(stage.embedding, cls.vocab[0], cls.vocab[1]);
    if (!sameView(rows.data, cls.wcls.data) || !sameView(bytesOf(rows.scales), bytesOf(cls.wcls.scales))) {
      throw invalid(
        'the model shares its classifier with the embedding, but the classifier rows differ from the embedding rows',
      );
    }
  }
  const imageSize = plan.imageSize;
  if (imageSize > 0xffffffff)
    throw invalid(`the image would be ${imageSize} bytes, over the format's 4 GiB limit`);

  const out = new Uint8Array(imageSize); // zero-filled: padding and reserved bytes stay 0
  const dv = new DataView(out.buffer);
  encodeHeader(out, layout, stage.fingerprint, imageSize, options.buildId, kv);
  specs.forEach((spec, i) => {
    const off = spec.offset;
    out.set(sources[i] as Uint8Array, off);
    const crc = crc32c(out.subarray(off, off + spec.byteLength));
    encodeEntry(dv, IMAGE_HEADER_BYTES + i * IMAGE_ENTRY_BYTES, spec, off, crc);
  });
  dv.setUint32(HEADER.headerCrc, computeHeaderCrc(out, plan.tableEnd), true);
  return out;
}

/**
 * Build the weight image of one stage (one board) of a quantized model.
 *
 * ```ts
 * const img = buildImage(qm, { layers: [0, 3], embedding: true, classifier: false });
 * ```
 * The image is format version 3; its `build_id` is all zero unless `options.buildId` gives one
 * (`tinypipe build` stamps its build id afterwards with `stampBuildId`), its `kv_format` is
 * `options.kv` (default fp32: the KV cache format of the plan, docs/numerics.md §6b); with
 * `options.tokenizer` it holds the tokenizer section too (docs/image-format.md §4b), with `options.story`
 * board 0's story defaults (§4c).
 * @throws TinypipeError `IMAGE_BAD_RANGE` when the layer range or vocab slice is outside the model.
 */
export function buildImage(
  qm: QuantizedModel,
  selection: StageSelection,
  options: ImageOptions = {},
): Uint8Array {
  return serializeStage(sliceStageWeights(qm, selection), options);
}
