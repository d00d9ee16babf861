/**
 * The deprecated `vocabRange` name of a stage's classifier rows, kept so code written before the rename
 * to `vocab` (issue 18) keeps working. Added as a non-enumerable getter, so it is not serialized, not
 * spread and not compared by deep equality.
 */

/** Adds a non-enumerable, deprecated `vocabRange` getter that reads `o.vocab`; returns `o`. */
export function withVocabRangeAlias<T extends { readonly vocab: unknown }>(o: T): T {
  Object.defineProperty(o, 'vocabRange', {
    get(this: T) {
      return this.vocab;
    },
    enumerable: false,
    configurable: true,
  });
  return o;
}
