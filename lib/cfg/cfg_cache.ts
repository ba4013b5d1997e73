/**
 * The `cache NAME` section (HAProxy 2.6's cfg_parse_cache, src/cache.c):
 * `total-max-size MB`, `max-object-size BYTES`, `max-age SECONDS`,
 * `process-vary on|off`, `max-secondary-entries N` into a CacheConfig.
 * Values are checked here with HAProxy's limits; what depends on the whole
 * section (size given, max-object-size at most half of it) is checked by
 * resolveCaches(), at the section's line.
 *
 * @module
 */
import type { CfgAt } from "./cfg_at.ts";
import type { CfgSources } from "./cfg_sources.ts";
import type { CacheConfig } from "./config_types.ts";

/** HAProxy's `UINT_MAX >> 20`: total-max-size is below 4 GiB. */
const MAX_TOTAL_MB = 4095;

/** The fields of CacheConfig each keyword sets. */
const FIELDS = {
  "total-max-size": "totalMaxSize",
  "max-object-size": "maxObjectSize",
  "max-age": "maxAge",
  "process-vary": "processVary",
  "max-secondary-entries": "maxSecondaryEntries",
} as const;

/** A `cache NAME` header's name, checked (HAProxy limits it to 32 characters). */
export function cfgCacheName(at: CfgAt, v: string | undefined): string {
  if (v === undefined || v === "") throw at.fail(`"cache" expects a <name> argument`);
  if (v.length > 32) throw at.fail(`cache name "${v}" is longer than 32 characters`);
  if (!/^[A-Za-z0-9.:_-]+$/.test(v)) throw at.fail(`invalid character in cache name "${v}"`);
  return v;
}

/** Applies one line of a cache section to `c` (index `i` in the configuration's caches). */
export function cfgCacheKeyword(
  c: CacheConfig,
  i: number,
  x: { at: CfgAt; words: readonly string[]; sources: CfgSources },
): void {
  const { at, words } = x;
  const [kw, ...args] = words;
  if (!Object.hasOwn(FIELDS, kw)) {
    throw at.fail(
      `unknown keyword "${kw}" in section "cache ${c.name}" (expected ${
        Object.keys(FIELDS).join(", ")
      })`,
    );
  }
  at.args(args, 1, 1);
  const v = args[0];
  const field = FIELDS[kw as keyof typeof FIELDS];
  x.sources.field(`caches[${i}].${field}`, at.where);
  switch (field) {
    case "totalMaxSize": {
      const n = at.int(v);
      if (n < 1 || n > MAX_TOTAL_MB) {
        throw at.badValue(v, `expected 1 to ${MAX_TOTAL_MB} megabytes`);
      }
      c.totalMaxSize = n;
      return;
    }
    case "maxObjectSize": {
      const n = at.int(v);
      if (n < 1 || n > 0xffffffff) throw at.badValue(v, "expected a positive number of bytes");
      c.maxObjectSize = n;
      return;
    }
    case "maxAge": {
      const n = at.int(v);
      if (n > 0x7fffffff) throw at.badValue(v, "the number is too large");
      c.maxAge = n;
      return;
    }
    case "processVary":
      c.processVary = at.oneOf(v, ["on", "off"]) === "on";
      return;
    case "maxSecondaryEntries": {
      const n = at.int(v);
      if (n < 1 || n > 0xffffffff) throw at.badValue(v, "expected a strictly positive number");
      c.maxSecondaryEntries = n;
      return;
    }
  }
}
