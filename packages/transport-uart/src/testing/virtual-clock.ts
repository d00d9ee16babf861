/**
 * A simulated clock for links under test: time stands still while anything can still happen without
 * it, and jumps straight to the next timer when nothing can — so a soak that would spend hours in
 * retransmission timeouts runs in seconds, deterministically. Drive it with `run(done)`.
 */
import type { LinkClock } from '../link/reliable-link.js';

interface Timer {
  at: number;
  fn: () => void;
  every: number | undefined;
}

/** Lets every queued promise job and stream chunk settle (a macrotask turn). */
const settle: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((r) => setImmediate(r))
    : () => new Promise((r) => setTimeout(r, 0));

export class VirtualClock implements LinkClock {
  #t = 0;
  #id = 0;
  readonly #timers = new Map<number, Timer>();

  now(): number {
    return this.#t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    this.#timers.set(++this.#id, { at: this.#t + Math.max(0, ms), fn, every: undefined });
    return this.#id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  setInterval(fn: () => void, ms: number): unknown {
    const every = Math.max(1, ms);
    this.#timers.set(++this.#id, { at: this.#t + every, fn, every });
    return this.#id;
  }
  clearInterval(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  /**
   * Time passes as it does for a thread busy with a long synchronous task: the clock jumps `ms` ahead,
   * then every timer that came due fires once, in order, before any I/O gets in (Node runs its timers
   * phase before its poll phase); intervals re-arm from the new time.
   */
  stall(ms: number): void {
    this.#t += ms;
    const due = [...this.#timers].filter(([, t]) => t.at <= this.#t).sort(([, a], [, b]) => a.at - b.at);
    for (const [id, t] of due) {
      if (!this.#timers.has(id)) continue;
      if (t.every === undefined) this.#timers.delete(id);
      else t.at = this.#t + t.every;
      t.fn();
    }
  }

  /** Runs until `done()`: lets real work settle, then fires the earliest timer(s), and again. */
  async run(done: () => boolean, limitMs = Number.POSITIVE_INFINITY): Promise<void> {
    while (!done()) {
      await settle();
      if (done()) return;
      let next: number | undefined;
      for (const t of this.#timers.values()) if (next === undefined || t.at < next) next = t.at;
      if (next === undefined) {
        await new Promise((r) => setTimeout(r, 1)); // nothing scheduled: only outside work can move things
        continue;
      }
      if (next > limitMs) throw new Error(`virtual clock passed ${limitMs} ms without finishing`);
      this.#t = Math.max(this.#t, next);
      for (const [id, t] of [...this.#timers]) {
        if (t.at > this.#t || !this.#timers.has(id)) continue;
        if (t.every === undefined) this.#timers.delete(id);
        else t.at += t.every;
        t.fn();
      }
    }
  }
}
