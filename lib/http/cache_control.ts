/**
 * What the HTTP cache reads in heads (RFC 9111 as HAProxy 2.6's cache
 * applies it, src/cache.c and http_check_{request,response}_for_cacheability):
 * Cache-Control directives, Pragma, Expires and Age, whether a request may
 * be answered from a cache and whether a response may be stored, and for
 * how long. Pure functions over a parsed head; no state.
 *
 * @module
 */
import { bytesToStr, eqNoCase, lc } from "./h1_chars.ts";
import { H1_MF_CHNK, H1_MF_CLEN, H1_MF_VER_11, type HttpMsg } from "./h1_types.ts";

const H_CACHE_CONTROL = lc("cache-control");
const H_PRAGMA = lc("pragma");
const H_AUTHORIZATION = lc("authorization");
const H_EXPIRES = lc("expires");
const H_AGE = lc("age");
const H_SET_COOKIE = lc("set-cookie");
const H_ETAG = lc("etag");
const H_LAST_MODIFIED = lc("last-modified");
const H_VARY = lc("vary");

/** HAProxy's CACHE_ENTRY_MAX_AGE: an origin Age is capped there. */
const MAX_AGE_CAP = 2147483648;

/** Every value of header `lname` (lowercase bytes), in order, as text. */
export function headerValues(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  lname: Uint8Array,
): string[] {
  const out: string[] = [];
  const h = msg.hdrs;
  for (let k = 0; k < msg.nHdrs * 4; k += 4) {
    if (eqNoCase(a, base + h[k], h[k + 1], lname)) {
      out.push(bytesToStr(a, base + h[k + 2], h[k + 3]));
    }
  }
  return out;
}

/** One Cache-Control directive: lowercase name, value without quotes (null when none). */
export interface CcDirective {
  readonly name: string;
  readonly value: string | null;
}

/** The directives of every Cache-Control header, in order (`a, b=1, c="x"`). */
export function cacheControl(values: readonly string[]): CcDirective[] {
  const out: CcDirective[] = [];
  for (const v of values) {
    // Commas inside a quoted value (no-cache="a, b") do not split.
    const re = /\s*([^=,\s]+)\s*(?:=\s*("(?:[^"\\]|\\.)*"|[^,]*))?\s*(?:,|$)/y;
    let m: RegExpExecArray | null;
    while (re.lastIndex < v.length && (m = re.exec(v)) !== null) {
      if (m[0] === "") break;
      let val = m[2] === undefined ? null : m[2].trim();
      if (val !== null && val.startsWith('"')) val = val.slice(1, -1).replace(/\\(.)/g, "$1");
      out.push({ name: m[1].toLowerCase(), value: val });
    }
  }
  return out;
}

/** A delta-seconds value (RFC 9111 §1.2.2), or -1 when it is not one. */
function deltaSeconds(v: string | null): number {
  if (v === null || !/^[0-9]+$/.test(v)) return -1;
  const n = Number(v);
  return n > MAX_AGE_CAP ? MAX_AGE_CAP : n;
}

/** What a request allows (HAProxy's http_check_request_for_cacheability plus its cache-use checks). */
export interface RequestCacheability {
  /** It may be answered from the cache. */
  readonly lookup: boolean;
  /** Its response may be stored. */
  readonly store: boolean;
  /** It carries Authorization: its response is stored only when public or s-maxage (RFC 9111 §3.5). */
  readonly auth: boolean;
}

/**
 * Whether a request head may use the cache: GET or HEAD over HTTP/1.1
 * without a body; not when it asks for a fresh copy (Cache-Control
 * no-cache, max-age, max-stale, min-fresh; Pragma: no-cache without
 * Cache-Control), nor with Authorization (HAProxy). `no-store` keeps the
 * response out of the cache. Only a GET's response is stored.
 */
export function requestCacheability(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  get: boolean,
  head: boolean,
): RequestCacheability {
  const no = { lookup: false, store: false, auth: false };
  if (!(msg.flags & H1_MF_VER_11) || (!get && !head)) return no;
  if ((msg.flags & H1_MF_CHNK) || ((msg.flags & H1_MF_CLEN) && msg.bodyLen > 0)) return no;
  const cc = headerValues(msg, a, base, H_CACHE_CONTROL);
  const d = cacheControl(cc);
  if (
    d.some((x) =>
      x.name === "no-cache" || x.name === "max-age" || x.name === "max-stale" ||
      x.name === "min-fresh"
    )
  ) {
    return no;
  }
  if (
    cc.length === 0 &&
    headerValues(msg, a, base, H_PRAGMA).some((p) => p.trim().toLowerCase() === "no-cache")
  ) {
    return no;
  }
  const auth = headerValues(msg, a, base, H_AUTHORIZATION).length > 0;
  const store = get && !d.some((x) => x.name === "no-store");
  return { lookup: !auth, store, auth };
}

/** How a response may be stored: the freshness it has left and the Age it came with. */
export interface ResponseFreshness {
  /** Seconds it stays fresh in this cache (the cache's max-age caps it). */
  readonly ttl: number;
  /** The origin's Age header value (0 when none); hits add their own time to it. */
  readonly age: number;
}

/**
 * Whether a final response may be stored and for how long, or why not
 * (the reason shows in tests and debugging only). As HAProxy: 200 only;
 * not with Pragma: no-cache or Cache-Control private, no-cache, no-store,
 * max-age=0, s-maxage=0; freshness from s-maxage, then max-age, then
 * Expires (an invalid date is in the past), each capped by `maxAge`; with
 * none of them, a validator (ETag, Last-Modified) is needed and `maxAge`
 * applies. Beyond HAProxy, as RFC 9111 asks: no Set-Cookie, and a response
 * to a request with Authorization only with public or s-maxage. An origin
 * Age counts against the freshness (an already stale response is not
 * stored). `nowMs` is the wall clock (Expires).
 */
export function responseFreshness(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  x: { maxAge: number; auth: boolean; nowMs: number },
): ResponseFreshness | string {
  if (msg.status !== 200) return `status ${msg.status}`;
  if (headerValues(msg, a, base, H_SET_COOKIE).length > 0) return "Set-Cookie";
  if (headerValues(msg, a, base, H_PRAGMA).some((p) => p.trim().toLowerCase() === "no-cache")) {
    return "Pragma: no-cache";
  }
  const d = cacheControl(headerValues(msg, a, base, H_CACHE_CONTROL));
  let smax = -2, max = -2, pub = false;
  for (const c of d) {
    if (c.name === "private" || c.name === "no-cache" || c.name === "no-store") {
      return `Cache-Control: ${c.name}`;
    }
    if (c.name === "public") pub = true;
    else if (c.name === "s-maxage") smax = deltaSeconds(c.value);
    else if (c.name === "max-age") max = deltaSeconds(c.value);
  }
  if (smax === -1 || max === -1) return "invalid max-age";
  if (smax === 0 || max === 0) return "max-age=0";
  if (x.auth && !pub && smax < 0) return "Authorization without public or s-maxage";
  let life: number;
  if (smax > 0) life = smax;
  else if (max > 0) life = max;
  else {
    const exp = headerValues(msg, a, base, H_EXPIRES);
    if (exp.length > 0) {
      const t = Date.parse(exp[0]);
      life = Number.isNaN(t) ? 0 : Math.floor((t - x.nowMs) / 1000);
      if (life <= 0) return "expired";
    } else {
      const validator = headerValues(msg, a, base, H_ETAG).length > 0 ||
        headerValues(msg, a, base, H_LAST_MODIFIED).length > 0;
      if (!validator) return "no freshness information nor validator";
      life = x.maxAge;
    }
  }
  let age = 0;
  const ages = headerValues(msg, a, base, H_AGE);
  if (ages.length > 0) {
    age = deltaSeconds(ages[0].trim());
    if (age < 0) return "invalid Age";
  }
  const ttl = Math.min(life, x.maxAge) - age;
  if (ttl <= 0) return "stale";
  return { ttl, age };
}

/** The lowercase names a response's Vary headers list (`*` included as is). */
export function varyNames(msg: HttpMsg, a: Uint8Array, base: number): string[] {
  const out: string[] = [];
  for (const v of headerValues(msg, a, base, H_VARY)) {
    for (const n of v.split(",")) {
      const t = n.trim().toLowerCase();
      if (t !== "" && !out.includes(t)) out.push(t);
    }
  }
  return out;
}

const H_IF_NONE_MATCH = lc("if-none-match");
const H_IF_MODIFIED_SINCE = lc("if-modified-since");
const H_DATE = lc("date");

/** What a stored response is validated by: its ETag and its last modification (s since epoch). */
export interface Validators {
  readonly etag: string | null;
  readonly lastModified: number;
}

/**
 * A response's validators (HAProxy's get_last_modified_time(): Last-Modified,
 * else Date, else now).
 */
export function validatorsOf(msg: HttpMsg, a: Uint8Array, base: number, nowMs: number): Validators {
  const etag = headerValues(msg, a, base, H_ETAG)[0]?.trim() ?? null;
  let t = Date.parse(headerValues(msg, a, base, H_LAST_MODIFIED)[0] ?? "");
  if (Number.isNaN(t)) t = Date.parse(headerValues(msg, a, base, H_DATE)[0] ?? "");
  if (Number.isNaN(t)) t = nowMs;
  return { etag, lastModified: Math.floor(t / 1000) };
}

/** An entity tag without its weak prefix, or null when it is not one (`"x"`, `W/"x"`). */
function opaqueTag(t: string): string | null {
  const s = t.startsWith("W/") ? t.slice(2) : t;
  return /^"[^"]*"$/.test(s) ? s : null;
}

/**
 * True when a conditional request is satisfied by the stored response, which
 * is then answered 304 (HAProxy's should_send_notmodified_response(), RFC
 * 9110 §13.1): If-None-Match `*` or a weakly equal tag; without
 * If-None-Match, If-Modified-Since not before the last modification.
 */
export function notModified(msg: HttpMsg, a: Uint8Array, base: number, v: Validators): boolean {
  const inm = headerValues(msg, a, base, H_IF_NONE_MATCH);
  if (inm.length > 0) {
    const mine = v.etag === null ? null : opaqueTag(v.etag);
    for (const value of inm) {
      for (const part of value.split(",")) {
        const t = part.trim();
        if (t === "*") return true;
        if (mine !== null && opaqueTag(t) === mine) return true;
      }
    }
    return false;
  }
  const ims = headerValues(msg, a, base, H_IF_MODIFIED_SINCE)[0];
  if (ims === undefined) return false;
  const t = Date.parse(ims);
  return !Number.isNaN(t) && v.lastModified <= Math.floor(t / 1000);
}
