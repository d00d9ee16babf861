/**
 * The fuzz_serve and fuzz_ring targets' images (test/fuzz/fuzz_serve.c, fuzz_ring.c): a two-layer synthetic
 * model, whole and split in two (head = layer 0 with the embedding, tail = layer 1 with the whole classifier).
 * Written by scripts/fuzz-seeds.ts into test/fuzz/data and, fresh in the current image format, by
 * ts/fuzz.test.ts.
 */
import { buildImage, quantize, synthesize, Tokenizer } from '@tinypipe/core';

function model() {
  return quantize(
    synthesize(
      {
        dim: 16,
        hiddenDim: 32,
        nLayers: 2,
        nHeads: 2,
        nKvHeads: 2,
        vocabSize: 16,
        seqLen: 8,
        sharedClassifier: false,
      },
      7,
    ),
    { weights: 'q8', groupSize: 16 },
  );
}

/** fuzz_serve's images: whole, head and tail of the two-layer model. */
export function fuzzServeImages(): Record<'whole.img' | 'head.img' | 'tail.img', Uint8Array> {
  const qm = model();
  return {
    'whole.img': buildImage(qm, { layers: [0, 2], embedding: true, classifier: true }),
    'head.img': buildImage(qm, { layers: [0, 1], embedding: true, classifier: false }),
    'tail.img': buildImage(qm, { layers: [1, 2], embedding: false, classifier: true }),
  };
}

/**
 * fuzz_ring's images: the same model with board 0's tokenizer section (16 pieces: the specials, letters,
 * merges, byte pieces "<0x0A>" and "<0x7", "é") and story defaults — ring-head (layer 0, board 0 of a ring of
 * two; tail.img is the last board) and ring-whole (a ring of one board).
 */
export function fuzzRingImages(): Record<'ring-head.img' | 'ring-whole.img', Uint8Array> {
  const qm = model();
  const pieces = [
    '<unk>',
    '<s>',
    '</s>',
    ' ',
    'a',
    'b',
    ' a',
    'ab',
    ' ab',
    'é',
    'ba',
    '<0x0A>',
    '<0x7',
    '\n',
    'the',
    ' b',
  ];
  const tokenizer = new Tokenizer(
    pieces.map((p, i) => ({ score: i === 7 ? 2 : -i, bytes: new TextEncoder().encode(p) })),
    8,
  );
  const story = { prompt: 'a b', steps: 8, temperature: 0.8, topp: 0.9, seed: 3, parallel: 2 };
  return {
    'ring-head.img': buildImage(
      qm,
      { layers: [0, 1], embedding: true, classifier: false },
      { tokenizer, story },
    ),
    'ring-whole.img': buildImage(
      qm,
      { layers: [0, 2], embedding: true, classifier: true },
      { tokenizer, story },
    ),
  };
}
