/**
 * The HTTP cache's part of one transaction: what `http-request cache-use`
 * found (the key, a hit), and the copy `http-response cache-store` takes of
 * a response while it streams to the client. The copy reads the bytes the
 * analyser forwards, from the response buffer, before they are sent: the
 * client never waits for the cache. A copy that would grow past
 * `max-object-size`, or that misses bytes, is abandoned; only a complete
 * one is inserted.
 *
 * @module
 */
import type { Channel } from "../buf/channel.ts";
import { type CacheEntry, HttpCache } from "./cache_store.ts";
import type { Validators } from "./cache_control.ts";
import type { VaryKey, VaryRequest } from "./cache_vary.ts";

/** A response being copied into a cache. */
export class CacheWriter {
  readonly cache: HttpCache;
  readonly key: string;
  readonly vary: VaryKey | null;
  readonly head: Uint8Array;
  readonly ttl: number;
  readonly age: number;
  readonly validators: Validators;
  /** Body parts copied so far. */
  readonly #parts: Uint8Array[] = [];
  #bytes = 0;
  /** The channel's `fwd` count up to which bytes were copied; -1 before the body starts. */
  mark = -1;

  constructor(
    x: {
      cache: HttpCache;
      key: string;
      vary: VaryKey | null;
      head: Uint8Array;
      ttl: number;
      age: number;
      validators: Validators;
    },
  ) {
    this.cache = x.cache;
    this.key = x.key;
    this.vary = x.vary;
    this.head = x.head;
    this.ttl = x.ttl;
    this.age = x.age;
    this.validators = x.validators;
  }

  /** Takes the bytes forwarded since the last call; false when the copy must be abandoned. */
  take(res: Channel): boolean {
    const n = res.fwd - this.mark;
    if (n === 0) return true;
    const buf = res.buf;
    // Bytes already sent (or too many): the copy would have a hole.
    if (n > buf.out) return false;
    const c = this.cache;
    if (this.head.length + this.#bytes + n > c.spec.maxObject) return false;
    // Copies in progress count against total-max-size too: many concurrent
    // misses cannot hold more than the cache itself may.
    if (c.pending + n > c.spec.totalMax) return false;
    c.pending += n;
    const part = new Uint8Array(n);
    const size = buf.area.length;
    let p = buf.head + buf.out - n;
    if (p >= size) p -= size;
    const first = Math.min(n, size - p);
    part.set(buf.area.subarray(p, p + first));
    if (first < n) part.set(buf.area.subarray(0, n - first), first);
    this.#parts.push(part);
    this.#bytes += n;
    this.mark = res.fwd;
    return true;
  }

  /** Forgets the copy (abandoned, or inserted): its bytes no longer count as pending. */
  release(): void {
    this.cache.pending -= this.#bytes;
    this.#bytes = 0;
    this.#parts.length = 0;
  }

  /** The complete response goes into the cache. */
  finish(now: number): void {
    const body = new Uint8Array(this.#bytes);
    let o = 0;
    for (const p of this.#parts) {
      body.set(p, o);
      o += p.length;
    }
    this.release();
    const e: CacheEntry = {
      key: this.key,
      vary: this.vary,
      head: this.head,
      body,
      stored: now,
      expire: now + this.ttl * 1000,
      age: this.age,
      size: HttpCache.sizeOf(this.key, this.head.length, body.length),
      validators: this.validators,
    };
    this.cache.insert(e, now);
  }
}

/** The cache state of one transaction (`HttpTxn.cache`), made by `cache-use`. */
export class CacheTxn {
  /** Primary key (Host and target). */
  readonly key: string;
  /** The request is GET or HEAD (else a successful response invalidates the key). */
  readonly safe: boolean;
  /** Its response may be stored. */
  readonly store: boolean;
  /** It carries Authorization. */
  readonly auth: boolean;
  /** The request's side of the secondary key. */
  readonly vary: VaryRequest;
  /** The entry that answers it, or null. */
  hit: CacheEntry | null = null;
  /**
   * Whose rule found the hit: a frontend's ("fe": as in HAProxy, no
   * backend is chosen and the log names the frontend as backend) or a
   * backend's.
   */
  hitSide: "fe" | "be" = "be";
  /** The name of the cache that found it. */
  hitCache = "";
  /** The request is conditional and the hit satisfies it: answer 304. */
  notModified = false;
  /** The copy being taken of its response, or null. */
  writer: CacheWriter | null = null;
  /** The hit is being sent. */
  serving = false;

  constructor(x: { key: string; safe: boolean; store: boolean; auth: boolean; vary: VaryRequest }) {
    this.key = x.key;
    this.safe = x.safe;
    this.store = x.store;
    this.auth = x.auth;
    this.vary = x.vary;
  }
}

/** What a rule context carries for the cache actions: the transaction's slot. */
export interface CacheSlot {
  cache: CacheTxn | null;
}

/** The response head is forwarded and the body is about to be: the copy starts at `res.fwd`. */
export function cacheTapStart(t: CacheTxn | null, res: Channel): void {
  if (t?.writer != null) t.writer.mark = res.fwd;
}

/** Copies what the response body forwarded; inserts the entry when `done`. */
export function cacheTap(t: CacheTxn | null, res: Channel, done: boolean, now: number): void {
  const w = t?.writer;
  if (w == null || w.mark < 0) return;
  if (!w.take(res)) {
    t!.writer = null;
    w.release();
    return;
  }
  if (done) {
    t!.writer = null;
    w.finish(now);
  }
}

/** The transaction ends (or its stream does) with a copy unfinished: it is dropped. */
export function cacheTapEnd(t: CacheTxn | null): void {
  const w = t?.writer;
  if (w == null) return;
  t!.writer = null;
  w.release();
}

const enc = new TextEncoder();

const NOT_MODIFIED = enc.encode("HTTP/1.1 304 Not Modified\r\n");

/**
 * The head answering a hit: the stored one with `Age` (seconds stored plus
 * the origin's); with `notModified`, its status line is HAProxy's
 * `304 Not Modified` (the headers stay).
 */
export function cacheHitHead(e: CacheEntry, now: number, notModified: boolean): Uint8Array {
  const age = Math.max(0, Math.floor((now - e.stored) / 1000)) + e.age;
  const tail = enc.encode(`Age: ${age}\r\n\r\n`);
  let head = e.head;
  if (notModified) {
    const eol = head.indexOf(0x0a) + 1;
    const h = new Uint8Array(NOT_MODIFIED.length + head.length - eol);
    h.set(NOT_MODIFIED);
    h.set(head.subarray(eol), NOT_MODIFIED.length);
    head = h;
  }
  const out = new Uint8Array(head.length + tail.length);
  out.set(head, 0);
  out.set(tail, head.length);
  return out;
}

/** The server name logs show for a transaction without a server: `<CACHE>` for a hit, as HAProxy. */
export function noServerName(t: CacheTxn | null | undefined): string {
  return t?.serving ? "<CACHE>" : "<NOSRV>";
}

/** True when a frontend's `cache-use` answered the transaction (no backend took part). */
export function frontendHit(t: CacheTxn | null | undefined): boolean {
  return t != null && (t.hit !== null || t.serving) && t.hitSide === "fe";
}
