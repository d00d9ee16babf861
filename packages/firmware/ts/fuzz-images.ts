/**
 * The fuzz_serve target's images (test/fuzz/fuzz_serve.c): a two-layer synthetic model, whole and split in
 * two (head = layer 0 with the embedding, tail = layer 1 with the whole classifier). Written by
 * scripts/fuzz-seeds.ts into test/fuzz/data and, fresh in the current image format, by ts/fuzz.test.ts.
 */
import { buildImage, quantize, synthesize } from '@tinypipe/core';

export function fuzzServeImages(): Record<'whole.img' | 'head.img' | 'tail.img', Uint8Array> {
  const qm = quantize(
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
  return {
    'whole.img': buildImage(qm, { layers: [0, 2], embedding: true, classifier: true }),
    'head.img': buildImage(qm, { layers: [0, 1], embedding: true, classifier: false }),
    'tail.img': buildImage(qm, { layers: [1, 2], embedding: false, classifier: true }),
  };
}
