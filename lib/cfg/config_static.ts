/**
 * The `static` field of a backend (files served from a directory, sluice's
 * `static-*` keywords) checked and resolved: the root must be a directory
 * this process can read (its real path is what requests are confined to),
 * the index a plain file name, the cache-control value a valid header value.
 *
 * @module
 */
import type { StaticConfig } from "./config_types.ts";
import {
  STATIC_CACHE_VALID_MAX_MS,
  STATIC_CACHE_VALID_MS,
  STATIC_SUFFIX,
  type StaticEncoding,
  type StaticSpec,
} from "../applet/static_types.ts";
import { resolveBool, resolveFail, resolveInt } from "./config_values.ts";
import { SluiceError } from "../core/errors.ts";

/** The static settings at `at` of a backend in `mode` with `nServers` servers. */
export function resolveStatic(
  at: string,
  s: StaticConfig,
  mode: string,
  nServers: number,
  be: { cookie?: unknown; stickSource?: unknown } = {},
): StaticSpec {
  if (typeof s !== "object" || s === null) resolveFail(at, "expected { root, ... }");
  if (mode !== "http") resolveFail(at, 'serving files needs mode "http"');
  if (nServers > 0) resolveFail(at, "a backend serving files has no servers");
  for (const k of ["cookie", "stickSource"] as const) {
    if (be[k] !== undefined) {
      resolveFail(`${at}`, `a backend serving files has no ${k} (it has no servers)`);
    }
  }
  for (const k of Object.keys(s)) {
    if (
      ![
        "root",
        "index",
        "autoindex",
        "precompressed",
        "cacheControl",
        "dotfiles",
        "cacheValid",
      ].includes(k)
    ) {
      resolveFail(`${at}.${k}`, "unknown field");
    }
  }
  if (typeof s.root !== "string" || s.root === "") {
    resolveFail(`${at}.root`, "expected a directory");
  }
  let root: string;
  try {
    root = Deno.realPathSync(s.root);
    if (!Deno.statSync(root).isDirectory) {
      resolveFail(`${at}.root`, `"${s.root}" is not a directory`);
    }
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    resolveFail(`${at}.root`, `cannot read directory "${s.root}": ${(err as Error).message}`);
  }
  const index = s.index ?? "index.html";
  if (
    typeof index !== "string" || !/^[^/\\]+$/.test(index) || index.includes("\0") ||
    index === "." || index === ".."
  ) {
    resolveFail(`${at}.index`, `expected a file name, got ${JSON.stringify(index)}`);
  }
  const pre = s.precompressed ?? [];
  if (!Array.isArray(pre)) resolveFail(`${at}.precompressed`, 'expected a list of "gzip", "br"');
  const seen = new Set<StaticEncoding>();
  for (const [i, e] of pre.entries()) {
    if (!(e in STATIC_SUFFIX)) {
      resolveFail(`${at}.precompressed[${i}]`, `expected "gzip" or "br", got ${JSON.stringify(e)}`);
    }
    if (seen.has(e)) resolveFail(`${at}.precompressed[${i}]`, `"${e}" is given twice`);
    seen.add(e);
  }
  const cc = s.cacheControl;
  if (cc !== undefined && (typeof cc !== "string" || !/^[\x20-\x7e\t]*[\x21-\x7e]$/.test(cc))) {
    resolveFail(`${at}.cacheControl`, "expected a header value");
  }
  const dot = s.dotfiles ?? "deny";
  if (dot !== "allow" && dot !== "deny") {
    resolveFail(`${at}.dotfiles`, `expected "allow" or "deny", got ${JSON.stringify(dot)}`);
  }
  return {
    root,
    index,
    autoindex: resolveBool(`${at}.autoindex`, s.autoindex, false),
    precompressed: [...seen],
    cacheControl: cc ?? null,
    dotfiles: dot === "allow",
    cacheValid: resolveInt(
      `${at}.cacheValid`,
      s.cacheValid,
      STATIC_CACHE_VALID_MS,
      0,
      STATIC_CACHE_VALID_MAX_MS,
    ),
  };
}
