/**
 * The memory of one `cache NAME` section (HAProxy's struct cache over its
 * shared context): entries by primary key (host and URI), each key holding
 * up to `max-secondary-entries` variants (Vary), the total bounded by
 * `total-max-size` with least-recently-used eviction (HAProxy evicts the
 * oldest blocks first; a hit makes an entry recent here). An entry is only
 * ever inserted complete; expired ones are dropped when met.
 *
 * @module
 */
import type { Validators } from "./cache_control.ts";
import { type VaryKey, varyMatch, type VaryRequest, varySame } from "./cache_vary.ts";

/** Bytes an entry costs beyond its head, body and key (bookkeeping). */
const ENTRY_OVERHEAD = 128;

/** The settings of a cache section, resolved. */
export interface CacheSpec {
  readonly name: string;
  /** `total-max-size` in bytes. */
  readonly totalMax: number;
  /** `max-object-size` in bytes (head and body). */
  readonly maxObject: number;
  /** `max-age` in seconds. */
  readonly maxAge: number;
  /** `process-vary on`. */
  readonly processVary: boolean;
  /** `max-secondary-entries`. */
  readonly maxSecondary: number;
}

/** One stored response. */
export interface CacheEntry {
  /** Primary key: Host and request target. */
  readonly key: string;
  /** Secondary key (Vary), null when the response does not vary. */
  readonly vary: VaryKey | null;
  /** Status line and headers, each ending with CRLF, without the final empty line nor Age. */
  readonly head: Uint8Array;
  /** The body as the server framed it (Content-Length or chunked). */
  readonly body: Uint8Array;
  /** Tick (ms) it was stored. */
  readonly stored: number;
  /** Tick (ms) it stops being fresh. */
  readonly expire: number;
  /** The Age the origin gave it (seconds). */
  readonly age: number;
  /** Bytes counted against total-max-size. */
  readonly size: number;
  /** Its ETag and last modification, for conditional requests. */
  readonly validators: Validators;
}

/** One cache: entries, LRU order, used bytes, counters. */
export class HttpCache {
  readonly spec: CacheSpec;
  /** Lookups made (requests that could be answered from this cache). */
  lookups = 0;
  /** Lookups answered. */
  hits = 0;
  /** Entries evicted to make room (not counting expiries). */
  evictions = 0;
  /** Bytes held. */
  used = 0;
  /** Bytes of responses being copied (not yet inserted). */
  pending = 0;
  /** Variants by primary key. */
  readonly #byKey = new Map<string, CacheEntry[]>();
  /** Every entry, least recently used first. */
  readonly #lru = new Set<CacheEntry>();

  constructor(spec: CacheSpec) {
    this.spec = spec;
  }

  /** Number of entries held (expired ones included until met). */
  get count(): number {
    return this.#lru.size;
  }

  /** The bytes an entry of this key, head and body would take. */
  static sizeOf(key: string, head: number, body: number): number {
    return key.length + head + body + ENTRY_OVERHEAD;
  }

  /** The fresh entry answering `key` for a request that says `req`, or null; a hit becomes recent. */
  lookup(key: string, req: VaryRequest, now: number): CacheEntry | null {
    const list = this.#byKey.get(key);
    if (list === undefined) return null;
    for (const e of [...list]) {
      if (e.expire <= now) {
        this.#remove(e);
        continue;
      }
      if (!varyMatch(e.vary, req)) continue;
      this.#lru.delete(e);
      this.#lru.add(e);
      return e;
    }
    return null;
  }

  /**
   * Stores a complete entry, replacing the one with the same keys; refused
   * (false) when larger than max-object-size or when its key already has
   * max-secondary-entries fresh variants. Older entries make room.
   */
  insert(e: CacheEntry, now: number): boolean {
    const s = this.spec;
    if (e.head.length + e.body.length > s.maxObject || e.size > s.totalMax) return false;
    const list = this.#byKey.get(e.key) ?? [];
    for (const old of [...list]) {
      if (old.expire <= now || varySame(old.vary, e.vary)) this.#remove(old);
    }
    const left = this.#byKey.get(e.key) ?? [];
    if (e.vary !== null && left.length >= s.maxSecondary) return false;
    while (this.used + e.size > s.totalMax) {
      const victim = this.#lru.values().next().value;
      if (victim === undefined) break;
      this.#remove(victim);
      this.evictions++;
    }
    left.push(e);
    this.#byKey.set(e.key, left);
    this.#lru.add(e);
    this.used += e.size;
    return true;
  }

  /** Drops every variant of `key` (a successful unsafe request changed the resource). */
  invalidate(key: string): void {
    for (const e of [...(this.#byKey.get(key) ?? [])]) this.#remove(e);
  }

  /** Drops everything; returns how many entries there were. */
  clear(): number {
    const n = this.#lru.size;
    this.#byKey.clear();
    this.#lru.clear();
    this.used = 0;
    return n;
  }

  /** The fresh entries, least recently used first (expired ones are dropped on the way). */
  entries(now: number): CacheEntry[] {
    const out: CacheEntry[] = [];
    for (const e of [...this.#lru]) {
      if (e.expire <= now) this.#remove(e);
      else out.push(e);
    }
    return out;
  }

  #remove(e: CacheEntry): void {
    if (!this.#lru.delete(e)) return;
    this.used -= e.size;
    const list = this.#byKey.get(e.key);
    if (list === undefined) return;
    const i = list.indexOf(e);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byKey.delete(e.key);
  }
}

/** `cache_lookups` and `cache_hits` of a frontend or a backend (HAProxy's per-proxy counters). */
export interface CacheProxyCounters {
  lookups: number;
  hits: number;
}

/** The caches of one configuration, and the per-proxy counters of their rules. */
export class CacheRegistry {
  readonly caches: ReadonlyMap<string, HttpCache>;
  readonly #counters = new Map<string, CacheProxyCounters>();

  constructor(caches: readonly HttpCache[]) {
    this.caches = new Map(caches.map((c) => [c.spec.name, c]));
  }

  /** The counters of frontend ("fe") or backend ("be") `name`, made on first use. */
  counters(side: "fe" | "be", name: string): CacheProxyCounters {
    const k = `${side} ${name}`;
    let c = this.#counters.get(k);
    if (c === undefined) this.#counters.set(k, c = { lookups: 0, hits: 0 });
    return c;
  }

  /** The counters of a proxy whose rules use a cache, or undefined. */
  countersOf(side: "fe" | "be", name: string): CacheProxyCounters | undefined {
    return this.#counters.get(`${side} ${name}`);
  }
}

/** A proxy's `cache_lookups` and `cache_hits` for its stats row, or nothing when its rules use no cache. */
export function cacheProxyFields(
  reg: CacheRegistry | undefined,
  side: "fe" | "be",
  name: string,
): { cache_lookups?: number; cache_hits?: number } {
  const c = reg?.countersOf(side, name);
  return c === undefined ? {} : { cache_lookups: c.lookups, cache_hits: c.hits };
}

/** `caches`, each cache's figures, for the stats (nothing when there is no cache). */
export function cacheFigures(reg: CacheRegistry | undefined) {
  if (reg === undefined || reg.caches.size === 0) return {};
  return {
    caches: [...reg.caches.values()].map((c) => ({
      name: c.spec.name,
      lookups: c.lookups,
      hits: c.hits,
      // Expired objects still take memory until met: counted.
      entries: c.count,
      used: c.used,
      size: c.spec.totalMax,
      evictions: c.evictions,
    })),
  };
}
