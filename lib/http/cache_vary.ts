/**
 * The secondary key of the HTTP cache (RFC 9111 §4.1, HAProxy 2.6's
 * `process-vary on`): a response that varies on a header is stored with the
 * request's value of that header, and served only to requests that match.
 * As HAProxy 2.6.0, only `accept-encoding` (normalised into the set of
 * accepted codings, matched against the stored response's Content-Encoding)
 * and `referer` (compared whole) are handled; a response varying on anything
 * else is not stored.
 *
 * @module
 */
import { headerValues } from "./cache_control.ts";
import { lc } from "./h1_chars.ts";
import type { HttpMsg } from "./h1_types.ts";

const H_ACCEPT_ENCODING = lc("accept-encoding");
const H_REFERER = lc("referer");
const H_CONTENT_ENCODING = lc("content-encoding");

/** The codings HAProxy knows (others are "other"); x-gzip and x-compress are aliases. */
const CODINGS = new Map([
  ["aes128gcm", "aes128gcm"],
  ["br", "br"],
  ["compress", "compress"],
  ["x-compress", "compress"],
  ["deflate", "deflate"],
  ["exi", "exi"],
  ["gzip", "gzip"],
  ["x-gzip", "gzip"],
  ["identity", "identity"],
  ["pack200-gzip", "pack200-gzip"],
  ["zstd", "zstd"],
]);

/** Vary header names the cache can key on. */
export const VARY_HANDLED: readonly string[] = ["accept-encoding", "referer"];

/** HAProxy's ACCEPT_ENCODING_MAX_ENTRIES: a request listing more does not use the cache. */
const MAX_CODINGS = 16;

/** What a request says about the headers responses may vary on. */
export interface VaryRequest {
  /** Accepted codings (null: any, no Accept-Encoding), or "invalid" (too many). */
  readonly accept: ReadonlySet<string> | null | "invalid";
  /** The first Referer value, or null. */
  readonly referer: string | null;
}

/** What a stored response was varied on, with the request values it answers. */
export interface VaryKey {
  /** Lowercase names from its Vary headers, all in VARY_HANDLED. */
  readonly names: readonly string[];
  /** The response's codings (identity when none), when it varies on accept-encoding. */
  readonly codings: readonly string[];
  /** The Referer of the request it answered, when it varies on referer. */
  readonly referer: string | null;
}

/** The request's side of the secondary key (HAProxy's prebuilt full secondary key). */
export function varyRequest(msg: HttpMsg, a: Uint8Array, base: number): VaryRequest {
  const ref = headerValues(msg, a, base, H_REFERER);
  const ae = headerValues(msg, a, base, H_ACCEPT_ENCODING);
  if (ae.length === 0) return { accept: null, referer: ref[0] ?? null };
  const accepted = new Set<string>(["identity"]);
  const rejected = new Set<string>();
  let star = false, n = 0;
  for (const v of ae) {
    for (const part of v.split(",")) {
      const p = part.trim().toLowerCase();
      if (p === "") continue;
      if (++n >= MAX_CODINGS) return { accept: "invalid", referer: ref[0] ?? null };
      const [name, ...params] = p.split(";").map((x) => x.trim());
      const zero = params.some((x) => /^q=0(\.0*)?$/.test(x));
      const c = name === "*" ? "*" : CODINGS.get(name) ?? "other";
      if (zero) rejected.add(c);
      else if (c === "*") star = true;
      else accepted.add(c);
    }
  }
  if (star) {
    for (const c of CODINGS.values()) accepted.add(c);
    accepted.add("other");
  }
  for (const c of rejected) accepted.delete(c);
  return { accept: accepted, referer: ref[0] ?? null };
}

/**
 * The secondary key a response is stored with, or why it cannot be stored
 * (a Vary name not handled, `process-vary off`, an unknown coding).
 */
export function varyKeyOf(
  names: readonly string[],
  res: { msg: HttpMsg; a: Uint8Array; base: number },
  req: VaryRequest,
  processVary: boolean,
): VaryKey | null | string {
  if (names.length === 0) return null;
  if (!processVary) return "Vary with process-vary off";
  const bad = names.find((n) => !VARY_HANDLED.includes(n));
  if (bad !== undefined) return `Vary: ${bad} is not handled`;
  let codings: string[] = [];
  if (names.includes("accept-encoding")) {
    if (req.accept === "invalid") return "too many accepted encodings";
    const ce = headerValues(res.msg, res.a, res.base, H_CONTENT_ENCODING)
      .flatMap((v) => v.split(",")).map((v) => v.trim().toLowerCase()).filter((v) => v !== "");
    codings = ce.length === 0 ? ["identity"] : ce.map((c) => CODINGS.get(c) ?? "");
    if (codings.includes("")) return "unknown Content-Encoding";
  }
  return { names, codings, referer: names.includes("referer") ? req.referer : null };
}

/** True when a response stored with `key` may answer a request that says `req`. */
export function varyMatch(key: VaryKey | null, req: VaryRequest): boolean {
  if (key === null) return true;
  for (const n of key.names) {
    if (n === "referer" && key.referer !== req.referer) return false;
    if (n === "accept-encoding") {
      const acc = req.accept;
      if (acc === "invalid") return false;
      if (acc !== null && !key.codings.every((c) => acc.has(c))) return false;
    }
  }
  return true;
}

/** True when two keys answer the same requests (a new response replaces the old one). */
export function varySame(x: VaryKey | null, y: VaryKey | null): boolean {
  if (x === null || y === null) return x === y;
  return x.names.join(",") === y.names.join(",") && x.codings.join(",") === y.codings.join(",") &&
    x.referer === y.referer;
}
