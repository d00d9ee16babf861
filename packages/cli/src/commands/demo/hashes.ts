/** The demo's `--hashes`: every board's layer hashes, checked against the unsplit host run's. */
import type { QuantEngine } from '@tinypipe/core';

/** The layer hashes the boards reported: per stream and position, the row over all layers. */
export class BoardHashes {
  readonly #rows = new Map<string, number[]>();

  /** For `PipelineOptions.onHashes`: a resume may report a position again, the last report counts. */
  readonly onHashes = (e: { stream: number; pos: number; layerFrom: number; hashes: Uint32Array }) => {
    const key = `${e.stream}:${e.pos}`;
    const row = this.#rows.get(key) ?? [];
    e.hashes.forEach((h, i) => {
      row[e.layerFrom + i] = h;
    });
    this.#rows.set(key, row);
  };

  /** Rows reported at `pos`, every stream's. */
  #at(pos: number): number[][] {
    return [...this.#rows.entries()].filter(([k]) => Number(k.split(':')[1]) === pos).map(([, r]) => r);
  }

  /**
   * True when at every position the boards' rows (one per stream, every layer present) are the host stories'
   * rows at that position. The pipeline does not say which stream ran which story, so at each position the
   * rows are compared as multisets; with one stream that is row for row.
   */
  matches(host: readonly ReadonlyMap<number, readonly number[]>[], nLayers: number): boolean {
    const positions = new Set<number>();
    for (const h of host) for (const pos of h.keys()) positions.add(pos);
    for (const k of this.#rows.keys()) positions.add(Number(k.split(':')[1]));
    if (positions.size === 0) return false;
    for (const pos of positions) {
      const want = host.flatMap((h) => (h.has(pos) ? [rowKey(h.get(pos)!)] : [])).sort();
      const rows = this.#at(pos);
      // Array.from visits a row's holes (a layer no board reported), which every() would skip
      const whole = (r: number[]) =>
        r.length === nLayers && Array.from(r, (h) => h !== undefined).every(Boolean);
      if (!rows.every(whole)) return false;
      const got = rows.map(rowKey).sort();
      if (got.length !== want.length || got.some((r, i) => r !== want[i])) return false;
    }
    return true;
  }
}

const rowKey = (row: readonly number[]) => row.join(',');

/** Records `engine`'s layer hashes (it was made with `layerHashes: true`) at every position it computes. */
export function recordHostHashes(engine: QuantEngine): Map<number, number[]> {
  const hashes = new Map<number, number[]>();
  const forward = engine.forward.bind(engine);
  engine.forward = (token: number, pos: number) => {
    const logits = forward(token, pos);
    hashes.set(pos, [...engine.lastLayerHashes()]);
    return logits;
  };
  return hashes;
}
