/**
 * Cutting a stage out of a whole quantized model (zero-copy), and the checks on a stage's shape and ranges
 * shared by the quantized engine and the image builder (which imports them from here: quant does not depend
 * on image).
 */

import { TinypipeError } from '@tinypipe/protocol';
import type { ModelConfig } from '../checkpoint/types.js';
import type { QuantizedModel, QuantTensor, StageSelection, StageWeights } from './types.js';
import { withVocabRangeAlias } from './vocab-alias.js';

function rangeError(what: string, details: Record<string, unknown>): TinypipeError {
  return new TinypipeError('IMAGE_BAD_RANGE', `${what}; choose a range inside the model.`, { details });
}

const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0;

/**
 * Validate a stage's ranges against its model: layers `[from, to)` with `0 <= from <= to <= n_layers`,
 * vocab slice `[v0, v1)` with `0 <= v0 < v1 <= vocab_size`, and at least something to hold.
 * @throws TinypipeError `IMAGE_BAD_RANGE`
 */
export function checkStageRanges(
  nLayers: number,
  vocabSize: number,
  layers: readonly [number, number],
  embedding: boolean,
  vocab: readonly [number, number] | undefined,
): void {
  const [from, to] = layers;
  if (!isIndex(from) || !isIndex(to) || from > to || to > nLayers) {
    throw rangeError(`layer range [${from}, ${to}) is not inside the model's ${nLayers} layers`, {
      from,
      to,
      nLayers,
    });
  }
  if (vocab !== undefined) {
    const [v0, v1] = vocab;
    if (!isIndex(v0) || !isIndex(v1) || v0 >= v1 || v1 > vocabSize) {
      throw rangeError(
        `classifier vocab range [${v0}, ${v1}) is not a non-empty range inside vocab_size ${vocabSize}`,
        {
          v0,
          v1,
          vocabSize,
        },
      );
    }
  }
  if (from === to && !embedding && vocab === undefined) {
    throw rangeError('the stage would hold no layers, no embedding and no classifier', { from, to });
  }
}

/** Rows `[r0, r1)` of a quantized matrix, as views (no copy). */
export function quantRows(t: QuantTensor, r0: number, r1: number): QuantTensor {
  const rowBytes = t.kind === 'q4' ? t.cols / 2 : t.cols;
  const groups = Math.ceil(t.cols / t.groupSize);
  return {
    kind: t.kind,
    rows: r1 - r0,
    cols: t.cols,
    groupSize: t.groupSize,
    data: t.data.subarray(r0 * rowBytes, r1 * rowBytes),
    scales: t.scales.subarray(r0 * groups, r1 * groups),
  };
}

/**
 * The weights one stage holds, as views into `qm` (no copy). The same cut as the quant module's
 * `sliceStage`; used by `buildImage`.
 * @throws TinypipeError `IMAGE_BAD_RANGE` for ranges outside the model.
 */
export function sliceStageWeights(qm: QuantizedModel, sel: StageSelection): StageWeights {
  const c = qm.config;
  const vocab: readonly [number, number] | undefined =
    sel.classifier === false ? undefined : sel.classifier === true ? [0, c.vocabSize] : sel.classifier;
  checkStageRanges(c.nLayers, c.vocabSize, sel.layers, sel.embedding, vocab);
  const [from, to] = sel.layers;
  return {
    config: c,
    kind: qm.kind,
    groupSize: qm.groupSize,
    fingerprint: qm.fingerprint,
    layerRange: [from, to],
    layers: qm.layers.slice(from, to),
    ...(sel.embedding ? { embedding: qm.tokenEmbedding } : {}),
    ...(vocab
      ? {
          classifier: withVocabRangeAlias({
            rmsFinal: qm.rmsFinal,
            wcls:
              vocab[0] === 0 && vocab[1] === c.vocabSize ? qm.wcls : quantRows(qm.wcls, vocab[0], vocab[1]),
            vocab,
          }),
        }
      : {}),
    ...(to > from ? { rope: qm.rope } : {}),
  };
}

const INT32_MAX = 0x7fffffff;

/**
 * The shape rules every image header must satisfy (docs/image-format.md §3), checked before
 * writing so the builder never produces an image that readers refuse.
 * @throws TinypipeError `INVALID_ARGUMENT`
 */
export function checkStageShape(config: ModelConfig, kind: string): void {
  const fields: [string, number][] = [
    ['dim', config.dim],
    ['hiddenDim', config.hiddenDim],
    ['nLayers', config.nLayers],
    ['nHeads', config.nHeads],
    ['nKvHeads', config.nKvHeads],
    ['vocabSize', config.vocabSize],
    ['seqLen', config.seqLen],
  ];
  for (const [name, v] of fields) {
    if (!Number.isInteger(v) || v < 1 || v > INT32_MAX) {
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `config.${name} is ${v}, expected an integer in 1..${INT32_MAX}.`,
        {
          details: { field: name, actual: v },
        },
      );
    }
  }
  if (config.dim % config.nHeads !== 0 || (config.dim / config.nHeads) % 2 !== 0) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `config.dim ${config.dim} must be nHeads ${config.nHeads} times an even head size (RoPE rotates pairs).`,
      { details: { dim: config.dim, nHeads: config.nHeads } },
    );
  }
  if (config.nKvHeads > config.nHeads || config.nHeads % config.nKvHeads !== 0) {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `config.nKvHeads ${config.nKvHeads} must divide nHeads ${config.nHeads}.`,
      { details: { nHeads: config.nHeads, nKvHeads: config.nKvHeads } },
    );
  }
  if (kind !== 'q4' && kind !== 'q8') {
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `quantization kind is ${JSON.stringify(kind)}, expected "q4" or "q8".`,
      {
        details: { kind },
      },
    );
  }
}
