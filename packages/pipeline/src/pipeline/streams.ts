/**
 * The stream pool: each board keeps a KV cache per stream, so `generate()` calls share the boards, one
 * stream each, and a call waits for a free stream when all are busy (first come, first served).
 */
export class StreamPool {
  readonly #free: number[];
  readonly #queue: ((stream: number) => void)[] = [];

  constructor(readonly size: number) {
    this.#free = Array.from({ length: size }, (_, i) => i);
  }

  /** A free stream, now or once one is released. */
  async acquire(): Promise<number> {
    const s = this.#free.shift();
    if (s !== undefined) return s;
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  /** `stream` is free again: the longest waiter gets it. */
  release(stream: number): void {
    const next = this.#queue.shift();
    if (next) next(stream);
    else this.#free.push(stream);
  }
}
