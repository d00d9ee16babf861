/**
 * The embedding kept on the host (docs/protocol.md §5, "What the host sends first"): when no board of the
 * plan holds the embedding, the host looks up each token's row itself — the dequantized row of
 * docs/numerics.md §8, the same bits a board's `tp_stage_embed` gives — and sends `ACTIVATION(stream, pos,
 * x)` to the first board instead of `TOKEN`.
 */
import { TinypipeError } from '@tinypipe/protocol';
import type { PipelinePlan } from './plan.js';

/**
 * What turns a token into the residual stream on the host: a `QuantStage` holding the embedding (e.g.
 * `new QuantStage(readImage(hostImage).stage)` of a build's host.tpimg, or `new QuantStage(sliceStage(qm,
 * { layers: [0, 0], embedding: true, classifier: false }))`), or any function returning the dequantized
 * row of docs/numerics.md §8 (dim floats).
 */
export type Embedder =
  | ((token: number) => Float32Array)
  | {
      embed(token: number): Float32Array;
      /** A `QuantStage`'s weights: their fingerprint and shape are checked against the plan. */
      readonly weights?: {
        readonly fingerprint: Uint8Array;
        readonly config: { readonly dim: number; readonly vocabSize: number };
        readonly embedding?: unknown;
      };
    };

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');

/**
 * Where a position's embedding comes from: undefined — board 0 holds it, the host sends it TOKEN; `embed`
 * — the host's embedder, the host sends board 0 ACTIVATION; `board` — that board (not the first, a star
 * only) answers TOKEN with the row as ACTIVATION, which the host relays to board 0.
 */
export type EmbeddingSource = { embed: (token: number) => Float32Array } | { board: number } | undefined;

/**
 * Where the pipeline's embedding comes from (`EmbeddingSource`). INVALID_ARGUMENT when no board holds the
 * embedding and no embedder is given, when a board does and an embedder is given too (one place embeds:
 * drop one of them), or when a board other than the first holds it in a chain; WRONG_MODEL when a
 * `QuantStage` embedder holds another model or no embedding.
 */
export function resolveEmbedder(
  plan: PipelinePlan,
  embedder: Embedder | undefined,
  topology: 'star' | 'chain',
): EmbeddingSource {
  const holder = plan.stages.findIndex((s) => s.embedding);
  if (holder >= 0 && embedder)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${holder} holds the embedding and an \`embedder\` was given too: one place embeds — drop \`embedder\`, or plan the embedding on the host (tinypipe plan --embedding host) and flash that build`,
    );
  if (holder > 0 && topology === 'chain')
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      `board ${holder} holds the embedding but not the first layers: in a chain the host reaches only board 0, which cannot embed — run a star, or plan the embedding on board 0 or on the host (tinypipe plan --embedding board|host)`,
      { details: { board: holder } },
    );
  if (holder > 0) return { board: holder };
  if (holder === 0) return undefined;
  if (!embedder)
    throw new TinypipeError(
      'INVALID_ARGUMENT',
      "no board of this plan holds the embedding: pass `embedder` — a QuantStage of the build's host.tpimg (new QuantStage(readImage(bytes).stage)) or (token) => its dequantized row (docs/numerics.md §8); connectBoards takes the image as `hostImage`",
    );
  const { dim, vocabSize } = plan.config;
  if (typeof embedder !== 'function' && embedder.weights) {
    const w = embedder.weights;
    const wrong: string[] = [];
    if (hex(w.fingerprint) !== hex(plan.fingerprint))
      wrong.push(
        `model ${hex(w.fingerprint).slice(0, 16)}…, the plan's is ${hex(plan.fingerprint).slice(0, 16)}…`,
      );
    if (w.config.dim !== dim || w.config.vocabSize !== vocabSize)
      wrong.push(`dim ${w.config.dim} and vocab ${w.config.vocabSize}, the plan's ${dim} and ${vocabSize}`);
    if (w.embedding === undefined) wrong.push('no embedding');
    if (wrong.length)
      throw new TinypipeError(
        'WRONG_MODEL',
        `the host's embedder holds ${wrong.join('; ')}: load it from the host.tpimg of this plan's build`,
      );
  }
  const embed = typeof embedder === 'function' ? embedder : (t: number) => embedder.embed(t);
  return { embed: checkedEmbed(embed, dim, vocabSize) };
}

/** `embed` with its token and its answer checked (INVALID_ARGUMENT: a token outside the vocab, not dim floats). */
function checkedEmbed(
  embed: (token: number) => Float32Array,
  dim: number,
  vocabSize: number,
): (token: number) => Float32Array {
  return (token) => {
    if (!Number.isInteger(token) || token < 0 || token >= vocabSize)
      throw new TinypipeError('INVALID_ARGUMENT', `token ${token} is outside the vocab [0, ${vocabSize})`);
    const x = embed(token);
    if (!(x instanceof Float32Array) || x.length !== dim)
      throw new TinypipeError(
        'INVALID_ARGUMENT',
        `the embedder returned ${x instanceof Float32Array ? `${x.length} values` : 'no Float32Array'} for token ${token}: it must return the dequantized row, dim (${dim}) floats`,
      );
    return x;
  };
}
