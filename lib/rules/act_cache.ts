/**
 * `http-request cache-use NAME` and `http-response cache-store NAME`
 * (HAProxy 2.6's src/cache.c actions). cache-use computes the request's key
 * (Host and target) — which cache-store needs, as in HAProxy — counts a
 * lookup on the proxy whose rule it is and, on a hit, marks the transaction
 * for the analyser to answer from the cache without contacting a server.
 * cache-store checks that the response may be stored, takes its head as the
 * rules before it left it (later rules change only what the client gets)
 * and starts the copy the analyser feeds while the body streams. The caches
 * are found in the scope the configuration checker sets around the
 * compilation of each proxy's rules (`cacheScope()`).
 *
 * @module
 */
import { tickNow } from "../core/time.ts";
import {
  headerValues,
  notModified,
  requestCacheability,
  responseFreshness,
  validatorsOf,
  varyNames,
} from "../http/cache_control.ts";
import { type CacheProxyCounters, CacheRegistry, HttpCache } from "../http/cache_store.ts";
import { CacheTxn, CacheWriter } from "../http/cache_txn.ts";
import { varyKeyOf, varyRequest } from "../http/cache_vary.ts";
import { bytesToStr, lc } from "../http/h1_chars.ts";
import { h1Rewrite, type RewriteOptions } from "../http/h1_rewrite.ts";
import { H1_MF_CHNK, H1_MF_CLEN, HTTP_METH_GET, HTTP_METH_HEAD } from "../http/h1_types.ts";
import type { AclCtx } from "./acl_types.ts";
import { authScopeProxy } from "./auth.ts";
import { actFail } from "./http_act_args.ts";
import type { HttpAct, HttpActCompile, RuleAnswer } from "./http_act_types.ts";

const H_HOST = lc("host");
const H_AGE = lc("age");

/** Where the rules being compiled find caches: the registry and which side's counters they feed. */
interface CacheScope {
  readonly registry: CacheRegistry;
  readonly side: "fe" | "be";
}

let SCOPE: CacheScope | null = null;

/** Runs `fn` (the compilation of frontends' or backends' rules) with the caches of `registry`. */
export function cacheScope<T>(registry: CacheRegistry, side: "fe" | "be", fn: () => T): T {
  const prev = SCOPE;
  SCOPE = { registry, side };
  try {
    return fn();
  } finally {
    SCOPE = prev;
  }
}

/** The cache a rule names. */
function cacheOf(w: readonly string[], c: HttpActCompile): HttpCache {
  const name = w[0];
  if (name === undefined || name === "") actFail(c.where, `"${c.kw}" expects a cache name`);
  if (w.length > 1) actFail(c.where, `unexpected ${JSON.stringify(w[1])} after ${c.kw} ${name}`);
  const cache = SCOPE?.registry.caches.get(name);
  if (cache === undefined) {
    actFail(c.where, `unable to find the cache '${name}' referenced by ${c.kw}`);
  }
  return cache;
}

/** The primary key: Host (from an absolute target first) and the target's path and query. */
function keyOf(ctx: AclCtx): string {
  const msg = ctx.msg;
  const target = bytesToStr(ctx.a, ctx.base + msg.uriPos, msg.uriLen);
  const abs = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (abs !== null) return `${abs[1].toLowerCase()} ${abs[2] === "" ? "/" : abs[2]}`;
  const host = headerValues(msg, ctx.a, ctx.base, H_HOST)[0] ?? "";
  return `${host.toLowerCase()} ${target}`;
}

/** `cache-use NAME`. */
class CacheUseAct implements HttpAct {
  readonly #cache: HttpCache;
  readonly #counters: CacheProxyCounters;
  readonly #side: "fe" | "be";

  constructor(x: { cache: HttpCache; counters: CacheProxyCounters; side: "fe" | "be" }) {
    this.#cache = x.cache;
    this.#counters = x.counters;
    this.#side = x.side;
  }

  run(ctx: AclCtx): RuleAnswer | null {
    const slot = ctx.cache;
    if (slot == null) return null;
    const msg = ctx.msg;
    const get = msg.meth === HTTP_METH_GET, head = msg.meth === HTTP_METH_HEAD;
    const r = requestCacheability(msg, ctx.a, ctx.base, get, head);
    const vary = varyRequest(msg, ctx.a, ctx.base);
    const t = new CacheTxn({
      key: keyOf(ctx),
      safe: get || head,
      store: r.store,
      auth: r.auth,
      vary,
    });
    slot.cache = t;
    if (!r.lookup) return null;
    this.#counters.lookups++;
    this.#cache.lookups++;
    const hit = this.#cache.lookup(t.key, vary, tickNow());
    if (hit !== null) {
      this.#counters.hits++;
      this.#cache.hits++;
      t.hit = hit;
      t.hitSide = this.#side;
      t.hitCache = this.#cache.spec.name;
      t.notModified = notModified(msg, ctx.a, ctx.base, hit.validators);
    }
    return null;
  }
}

/** `cache-store NAME`. */
class CacheStoreAct implements HttpAct {
  readonly #cache: HttpCache;

  constructor(cache: HttpCache) {
    this.#cache = cache;
  }

  run(ctx: AclCtx, rw: RewriteOptions): RuleAnswer | null {
    const t = ctx.cache?.cache;
    if (t == null) return null;
    const msg = ctx.msg, cache = this.#cache, spec = cache.spec;
    if (!t.safe) {
      // RFC 9111 §4.4: a successful unsafe request invalidates what is stored.
      if (msg.status >= 200 && msg.status < 400) cache.invalidate(t.key);
      return null;
    }
    if (!t.store || t.writer !== null || t.serving) return null;
    const f = responseFreshness(msg, ctx.a, ctx.base, {
      maxAge: spec.maxAge,
      auth: t.auth,
      nowMs: Date.now(),
    });
    if (typeof f === "string") return null;
    // A body delimited by the connection's close is not stored.
    if (!(msg.flags & (H1_MF_CHNK | H1_MF_CLEN))) return null;
    const res = { msg, a: ctx.a, base: ctx.base };
    const vary = varyKeyOf(varyNames(msg, ctx.a, ctx.base), res, t.vary, spec.processVary);
    if (typeof vary === "string") return null;
    // HAProxy's check: head and announced body larger than max-object-size.
    if ((msg.flags & H1_MF_CLEN) && msg.headLen + msg.bodyLen > spec.maxObject) return null;
    // The head as the rules so far made it, without the hop-by-hop headers
    // nor Age (a hit sends its own), and without its empty line. A
    // Set-Cookie added for this client (cookie persistence) is not stored:
    // HAProxy adds it after the rules, and it is this client's only.
    const head = h1Rewrite(msg, ctx.a, ctx.base, {
      upgrade: false,
      connection: null,
      drop: [...(rw.drop ?? []), H_AGE],
      add: (rw.add ?? []).filter(([name]) => name.toLowerCase() !== "set-cookie"),
    });
    t.writer = new CacheWriter({
      cache,
      key: t.key,
      vary,
      head: head.slice(0, head.length - 2),
      ttl: f.ttl,
      age: f.age,
      validators: validatorsOf(msg, ctx.a, ctx.base, Date.now()),
    });
    return null;
  }
}

/** Compiles `cache-use NAME`. */
export function actCacheUseCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  const cache = cacheOf(w, c);
  // Counted on the proxy whose rule it is, as HAProxy's fe/be cache_lookups.
  const side = SCOPE!.side;
  return new CacheUseAct({
    cache,
    counters: SCOPE!.registry.counters(side, authScopeProxy()),
    side,
  });
}

/** Compiles `cache-store NAME`. */
export function actCacheStoreCompile(w: readonly string[], c: HttpActCompile): HttpAct {
  return new CacheStoreAct(cacheOf(w, c));
}
