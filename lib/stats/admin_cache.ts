/**
 * The runtime API's cache commands: `show cache` in HAProxy 2.6's layout
 * (cli_io_handler_show_cache(): a line per cache, then a line per fresh
 * object) and `clear cache [NAME]`, a sluice extension (HAProxy has no
 * command to empty a cache). Pointers do not exist here: caches and objects
 * are numbered instead, and each object line ends with its key (Host and
 * target), which HAProxy does not show.
 *
 * @module
 */
import type { HttpCache } from "../http/cache_store.ts";
import { hashStr } from "../lb/hash.ts";

/** HAProxy's CACHE_BLOCKSIZE: sizes are shown in blocks of 1 KiB too. */
const BLOCK = 1024;

/** `show cache`: every cache and its fresh objects. */
export function formatShowCache(caches: ReadonlyMap<string, HttpCache>, now: number): string {
  let out = "";
  let id = 0;
  for (const c of caches.values()) {
    id++;
    const entries = c.entries(now);
    const avail = Math.floor((c.spec.totalMax - c.used) / BLOCK);
    out += `0x${id.toString(16)}: ${c.spec.name} (shctx:0x${
      id.toString(16)
    }, available blocks:${avail}, entries:${entries.length}, lookups:${c.lookups}, hits:${c.hits})\n`;
    entries.forEach((e, i) => {
      const vary = e.vary === null ? "0" : (hashStr(JSON.stringify(e.vary)) >>> 0).toString(16);
      const blocks = Math.ceil(e.size / BLOCK);
      const expire = Math.ceil((e.expire - now) / 1000);
      out += `0x${id.toString(16)}.${i + 1} hash:${hashStr(e.key) >>> 0} vary:0x${
        vary.padStart(8, "0")
      } size:${e.size} (${blocks} blocks), refcount:0, expire:${expire} key:${e.key}\n`;
    });
  }
  return out;
}

/** `clear cache [NAME]`: empties one cache or all of them. */
export function clearCache(
  caches: ReadonlyMap<string, HttpCache>,
  name: string | undefined,
): string {
  if (name !== undefined) {
    const c = caches.get(name);
    if (c === undefined) return `No such cache '${name}'.\n`;
    c.clear();
    return "";
  }
  for (const c of caches.values()) c.clear();
  return "";
}
