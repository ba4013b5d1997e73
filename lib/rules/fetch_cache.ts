/**
 * The cache's fetches (HAProxy 2.6's src/cache.c): `res.cache_hit`, true
 * when the response comes from a cache, and `res.cache_name`, the name of
 * that cache (no sample otherwise). Response rules only.
 *
 * @module
 */
import type { AclCtx, AclFetch, AclSampleSink } from "./acl_types.ts";
import { SMP_T_BOOL, SMP_T_STR } from "./acl_types.ts";

const enc = new TextEncoder();

/** `res.cache_hit`. */
class FetchCacheHit implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(ctx.cache?.cache?.serving ? 1 : 0);
  }
}

/** `res.cache_name`. */
class FetchCacheName implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const t = ctx.cache?.cache;
    if (!t?.serving) return false;
    const name = enc.encode(t.hitCache);
    return m.matchBytes(name, 0, name.length);
  }
}

/** `res.cache_hit`. */
export function fetchCacheHitNew(word: string): AclFetch {
  return new FetchCacheHit(word);
}

/** `res.cache_name`. */
export function fetchCacheNameNew(word: string): AclFetch {
  return new FetchCacheName(word);
}
