/**
 * Counts shared by the worker threads of one sluice process (`nbthread` > 1):
 * a slot of an `Int32Array` over a `SharedArrayBuffer` that every thread
 * changes with `Atomics`, so that a limit configured for the process (global
 * and frontend maxconn, a server's maxconn) holds across threads, and a
 * count that must be global (a server's connections, for leastconn) is one
 * number. A single-threaded process has none: the owners keep plain fields.
 *
 * Cost (bench/shared_count_bench.ts, uncontended, 2-core VM under load): a
 * ConnLimit take + give is 90 ns shared against 14 ns on one thread, so a
 * keep-alive request (a server slot and the backend's count) pays about
 * 0.15 µs of its 35.
 *
 * @module
 */

/**
 * One shared count: slot `i` of `arr`; `mine[i]` is this thread's share of
 * it, so that the control thread can take a dead thread's share back out.
 */
export interface SharedCount {
  readonly arr: Int32Array;
  readonly i: number;
  readonly mine: Int32Array | null;
}

/**
 * Adds 1 unless that would pass `max` (0: no limit); returns whether it
 * did. A compare-and-swap loop, so two threads can never both take the last
 * place.
 */
export function sharedTryTake(c: SharedCount, max: number): boolean {
  const { arr, i } = c;
  for (;;) {
    const v = Atomics.load(arr, i);
    if (max > 0 && v >= max) return false;
    if (Atomics.compareExchange(arr, i, v, v + 1) === v) {
      if (c.mine !== null) c.mine[i]++;
      return true;
    }
  }
}

/** Adds `n` (negative to give back). */
export function sharedAdd(c: SharedCount, n: number): void {
  Atomics.add(c.arr, c.i, n);
  if (c.mine !== null) c.mine[c.i] += n;
}

/** Raises the count to `v` if it is lower (a peak: the highest value seen by any thread). */
export function sharedRaise(c: SharedCount, v: number): void {
  const { arr, i } = c;
  for (;;) {
    const cur = Atomics.load(arr, i);
    if (cur >= v || Atomics.compareExchange(arr, i, cur, v) === cur) return;
  }
}

/** The current value. */
export function sharedGet(c: SharedCount): number {
  return Atomics.load(c.arr, c.i);
}

/**
 * The named counts of one generation of workers (a configuration): the
 * control thread lays them out once from the configuration and sends the
 * same `SharedArrayBuffer` and names to every worker, which finds its
 * counts by name.
 */
export class SharedCounts {
  readonly sab: SharedArrayBuffer;
  readonly names: readonly string[];
  /** This thread's shares (see SharedCount), when it keeps them. */
  readonly mine: SharedArrayBuffer | null;
  readonly #arr: Int32Array;
  readonly #mine: Int32Array | null;
  readonly #index: Map<string, number>;

  constructor(names: readonly string[], sab?: SharedArrayBuffer, mine?: SharedArrayBuffer) {
    this.names = names;
    this.sab = sab ?? new SharedArrayBuffer(SharedCounts.bytes(names));
    this.mine = mine ?? null;
    this.#arr = new Int32Array(this.sab);
    this.#mine = mine === undefined ? null : new Int32Array(mine);
    this.#index = new Map(names.map((n, i) => [n, i]));
  }

  /** Bytes of a table of `names` counts (the shared one, or one thread's shares). */
  static bytes(names: readonly string[]): number {
    return Math.max(1, names.length) * 4;
  }

  /** The count named `name`; throws for a name the layout does not have (a bug). */
  get(name: string): SharedCount {
    const i = this.#index.get(name);
    if (i === undefined) throw new Error(`no shared count "${name}"`);
    return { arr: this.#arr, i, mine: this.#mine };
  }

  /** The count named `name`, or null when the layout has none. */
  find(name: string): SharedCount | null {
    const i = this.#index.get(name);
    return i === undefined ? null : { arr: this.#arr, i, mine: this.#mine };
  }

  /** Takes a dead thread's shares (`mine`, its table) back out of the counts. */
  forget(mine: SharedArrayBuffer): void {
    const m = new Int32Array(mine);
    for (let i = 0; i < m.length; i++) {
      if (m[i] !== 0) Atomics.sub(this.#arr, i, m[i]);
      m[i] = 0;
    }
  }
}
