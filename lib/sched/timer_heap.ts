/**
 * The one timer structure: a binary min-heap of tasks keyed by expiry.
 *
 * Keys are updated lazily, as HAProxy does with its timer tree: when a task
 * pushes its expiry later (every read refreshes a timeout), its entry stays
 * where it is and is re-keyed only when it reaches the top. Only moving an
 * expiry earlier costs a sift. This keeps the per-read cost at a comparison.
 *
 * @module
 */
import { TICK_ETERNITY } from "../core/time.ts";
import type { Task } from "./task.ts";

/** A min-heap of tasks by `heapKey`. */
export class TimerHeap {
  #heap: Task[] = [];

  /** Number of queued tasks. */
  get size(): number {
    return this.#heap.length;
  }

  /** Earliest key, or eternity when empty. */
  firstKey(): number {
    return this.#heap.length > 0 ? this.#heap[0].heapKey : TICK_ETERNITY;
  }

  /**
   * Puts `t` in the heap for `t.expire`: inserts it, moves it earlier, or
   * leaves a later expiry to the lazy re-key. Removes it when `expire` is
   * eternity.
   */
  schedule(t: Task): void {
    const exp = t.expire;
    if (t.heapIndex < 0) {
      if (exp === TICK_ETERNITY) return;
      t.heapKey = exp;
      t.heapIndex = this.#heap.length;
      this.#heap.push(t);
      this.#up(t.heapIndex);
    } else if (exp === TICK_ETERNITY) {
      this.remove(t);
    } else if (exp < t.heapKey) {
      t.heapKey = exp;
      this.#up(t.heapIndex);
    }
  }

  /** Removes `t` if it is queued. */
  remove(t: Task): void {
    const i = t.heapIndex;
    if (i < 0) return;
    const heap = this.#heap;
    const last = heap.pop()!;
    t.heapIndex = -1;
    if (last !== t) {
      heap[i] = last;
      last.heapIndex = i;
      this.#down(i);
      this.#up(last.heapIndex);
    }
  }

  /**
   * Pops every task whose key is reached. A task whose real expiry moved later
   * is re-keyed and stays; a task whose expiry is reached is passed to `fn`.
   */
  expire(now: number, fn: (t: Task) => void): void {
    const heap = this.#heap;
    while (heap.length > 0 && heap[0].heapKey <= now) {
      const t = heap[0];
      if (t.expire > now && t.expire !== TICK_ETERNITY) {
        t.heapKey = t.expire;
        this.#down(0);
        continue;
      }
      this.remove(t);
      if (t.expire <= now) fn(t);
    }
  }

  #up(i: number): void {
    const heap = this.#heap;
    const t = heap[i];
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = heap[p];
      if (parent.heapKey <= t.heapKey) break;
      heap[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    heap[i] = t;
    t.heapIndex = i;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const n = heap.length;
    const t = heap[i];
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && heap[c + 1].heapKey < heap[c].heapKey) c++;
      const child = heap[c];
      if (t.heapKey <= child.heapKey) break;
      heap[i] = child;
      child.heapIndex = i;
      i = c;
    }
    heap[i] = t;
    t.heapIndex = i;
  }
}
