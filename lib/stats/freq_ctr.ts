/**
 * Events per second over a sliding second, as HAProxy's freq_ctr: the
 * current second's count plus the previous second's, weighted by how much
 * of it still falls in the last 1000 ms. O(1), no allocation; the clock is
 * read by the caller (ms ticks).
 *
 * @module
 */

/** A per-second rate counter with its maximum. */
export class FreqCtr {
  #sec = 0;
  #curr = 0;
  #prev = 0;
  /** Highest rate seen at an update. */
  max = 0;

  /** Counts one event at `nowMs`. */
  add(nowMs: number): void {
    this.#roll(nowMs);
    this.#curr++;
    const r = this.rate(nowMs);
    if (r > this.max) this.max = r;
  }

  /** Events in the last second at `nowMs` (rounded). */
  rate(nowMs: number): number {
    this.#roll(nowMs);
    const frac = 1 - (nowMs % 1000) / 1000;
    return Math.round(this.#curr + this.#prev * frac);
  }

  #roll(nowMs: number): void {
    const sec = Math.floor(nowMs / 1000);
    if (sec === this.#sec) return;
    this.#prev = sec === this.#sec + 1 ? this.#curr : 0;
    this.#curr = 0;
    this.#sec = sec;
  }
}
