/**
 * Source-address stickiness (HAProxy's `stick-table type ip` with `stick on
 * src`): which server each client address last went to. Bounded: at most
 * `size` entries, the least recently used one is forgotten first, and an
 * entry unused for `expire` ms is gone.
 *
 * @module
 */

interface Entry<T> {
  value: T;
  exp: number;
}

/** A bounded, expiring map from client address to server. */
export class StickTable<T> {
  readonly size: number;
  readonly expire: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least
  // recently used entry first.
  readonly #map = new Map<string, Entry<T>>();

  constructor(size: number, expire: number) {
    this.size = size;
    this.expire = expire;
  }

  /** Entries held now. */
  get length(): number {
    return this.#map.size;
  }

  /** The value stored for `key` and still fresh at `now`, or null. */
  get(key: string, now: number): T | null {
    const e = this.#map.get(key);
    if (e === undefined) return null;
    if (this.expire > 0 && e.exp <= now) {
      this.#map.delete(key);
      return null;
    }
    return e.value;
  }

  /** Stores (or refreshes) `key`, forgetting the least recently used entry when full. */
  set(key: string, value: T, now: number): void {
    const m = this.#map;
    const e = m.get(key);
    const exp = this.expire > 0 ? now + this.expire : Infinity;
    if (e !== undefined) {
      m.delete(key);
      e.value = value;
      e.exp = exp;
      m.set(key, e);
      return;
    }
    if (m.size >= this.size) m.delete(m.keys().next().value!);
    m.set(key, { value, exp });
  }
}
