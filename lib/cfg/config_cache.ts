/**
 * Caches checked and built (checkConfig()'s `caches` part): unique names, a
 * size, HAProxy's defaults (max-age 60 s, max-object-size a 256th of the
 * total, 10 secondary entries) and its limit (max-object-size at most half
 * of total-max-size, cfg_post_parse_section_cache()).
 *
 * @module
 */
import { CacheRegistry, HttpCache } from "../http/cache_store.ts";
import type { CacheConfig } from "./config_types.ts";
import {
  resolveBool,
  type ResolveErrors,
  resolveFail,
  resolveInt,
  resolveName,
} from "./config_values.ts";

const MB = 1024 * 1024;

/** One cache at `at`. */
function cacheOf(at: string, c: CacheConfig): HttpCache {
  if (typeof c !== "object" || c === null) resolveFail(at, "expected { name, totalMaxSize, ... }");
  const name = resolveName(`${at}.name`, c.name);
  if (c.totalMaxSize === 0 || c.totalMaxSize === undefined) {
    resolveFail(at, `size not specified for cache '${name}' (total-max-size)`);
  }
  const total = resolveInt(`${at}.totalMaxSize`, c.totalMaxSize, 0, 1, 4095) * MB;
  const maxObject = resolveInt(`${at}.maxObjectSize`, c.maxObjectSize, total >> 8, 1, 0xffffffff);
  if (maxObject > total / 2) {
    resolveFail(
      `${at}.maxObjectSize`,
      `max-object-size is limited to half of total-max-size (${total / 2} bytes)`,
    );
  }
  return new HttpCache({
    name,
    totalMax: total,
    maxObject,
    maxAge: resolveInt(`${at}.maxAge`, c.maxAge, 60, 0, 0x7fffffff),
    processVary: resolveBool(`${at}.processVary`, c.processVary, false),
    maxSecondary: resolveInt(`${at}.maxSecondaryEntries`, c.maxSecondaryEntries, 10, 1, 0xffffffff),
  });
}

/** The caches of a configuration (errors recorded in `errs`, the caches in error left out). */
export function resolveCaches(
  caches: CacheConfig[] | undefined,
  errs: ResolveErrors,
): CacheRegistry {
  if (caches === undefined) return new CacheRegistry([]);
  if (!Array.isArray(caches)) resolveFail("caches", "expected a list of caches");
  const out: HttpCache[] = [];
  caches.forEach((c, i) => {
    const made = errs.run(() => cacheOf(`caches[${i}]`, c), null);
    if (made === null) return;
    if (out.some((x) => x.spec.name === made.spec.name)) {
      errs.run(() => resolveFail(`caches[${i}]`, `duplicate cache name "${made.spec.name}"`), null);
      return;
    }
    out.push(made);
  });
  return new CacheRegistry(out);
}
