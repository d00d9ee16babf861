/**
 * Test helpers: the brute-force reference the solver is checked against — every split of the layers
 * over the boards and every number of classifier slices, scored by `evaluateSplit` — for checking your
 * own profiles or cost overrides against the exact solver.
 */
import { evaluateSplit, type Problem, type Solution } from '../solver/solve.js';

function* compositions(total: number, parts: number): Generator<number[]> {
  if (parts === 1) {
    yield [total];
    return;
  }
  for (let first = 0; first <= total; first++)
    for (const rest of compositions(total - first, parts - 1)) yield [first, ...rest];
}

/** The best split by exhaustive search, with the solver's tie-breaks (fewer slices, then the smallest split). */
export function bruteForceSolve(p: Problem): Solution | undefined {
  let best: Solution | undefined;
  const B = p.boards.length;
  const maxSlices = p.splitClassifier === false ? 1 : B;
  for (let slices = 1; slices <= maxSlices; slices++) {
    for (const split of compositions(p.model.config.nLayers, B)) {
      const s = evaluateSplit(p, split, slices);
      if (!s) continue;
      if (!best || s.costUs < best.costUs) best = s; // compositions come in lexicographic order
    }
  }
  return best;
}

export { PARTITIONER_ERROR_CODES, type PartitionerErrorCodes } from '../errors/codes.js';
export { allText, findAll, parseXml, type XmlElement } from './xml.js';
