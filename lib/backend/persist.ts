/**
 * What a backend reads from and writes into HTTP heads: the load-balancing
 * key for `uri`, `url_param` and `hdr(name)`, and cookie persistence (HAProxy's `cookie
 * NAME insert|prefix`).
 *
 * - insert: a response to a client without a valid cookie gets
 *   `Set-Cookie: NAME=<server cookie>` (a server's own NAME cookie is
 *   dropped); a request carrying it goes to that server while the server is
 *   up (even draining). With `indirect` the cookie is also removed from
 *   requests, so servers never see it.
 * - prefix: the application's own cookie NAME is rewritten on the way out
 *   (`NAME=<server cookie>~<value>`) and restored on the way in.
 *
 * Strings are built only when the backend uses cookies and the head holds
 * one; without persistence nothing here runs.
 *
 * @module
 */
import { absoluteFormAuthority, absoluteFormPathPos } from "../http/h1_parser.ts";
import { bytesToStr, eqNoCase, lc } from "../http/h1_chars.ts";
import type { RewriteOptions } from "../http/h1_rewrite.ts";
import { H1_MF_ABS_URI, type HttpMsg } from "../http/h1_types.ts";
import { hashBytes } from "../lb/hash.ts";
import type { Stream } from "../stream/stream.ts";
import type { Server } from "./server.ts";

const H_COOKIE = lc("cookie");
const H_SET_COOKIE = lc("set-cookie");
const SLASH = lc("/");

/** The client sent a valid persistence cookie for the server it was sent to. */
export const PERSIST_VALID = 1;

/** A backend's cookie persistence setting, every default applied (resolved from `cookie`). */
export interface CookieSpec {
  /** Cookie name. */
  readonly name: string;
  /** `insert`: sluice sets the cookie; `prefix`: the application's own cookie carries the server's value. */
  readonly mode: "insert" | "prefix";
  /** Insert: the cookie is removed from requests, so servers never see it. */
  readonly indirect: boolean;
  /** Insert: `Cache-Control: private` on responses that set the cookie. */
  readonly nocache: boolean;
  /** Insert: attributes appended to the cookie (`Path=/`). */
  readonly attributes: string;
}

/** Cookie persistence of one backend. */
export class CookiePersist {
  readonly cfg: CookieSpec;
  readonly #byValue = new Map<string, Server>();

  constructor(cfg: CookieSpec, servers: readonly Server[]) {
    this.cfg = cfg;
    for (const s of servers) this.#byValue.set(s.cookie, s);
  }

  /**
   * Request head: finds the persistence cookie, makes its server the
   * stream's sticky choice, and asks the rewrite to remove or restore the
   * cookie as the mode says. Returns PERSIST_VALID when the cookie named a
   * known server, 0 otherwise.
   */
  request(strm: Stream, msg: HttpMsg, a: Uint8Array, base: number, rw: RewriteOptions): number {
    const cfg = this.cfg;
    const hdrs = msg.hdrs;
    let pairs: string[] | null = null;
    let found: string | null = null;
    for (let h = 0; h < msg.nHdrs; h++) {
      const k = h * 4;
      if (!eqNoCase(a, base + hdrs[k], hdrs[k + 1], H_COOKIE)) continue;
      for (const raw of bytesToStr(a, base + hdrs[k + 2], hdrs[k + 3]).split(";")) {
        const pair = raw.trim();
        if (pair === "") continue;
        (pairs ??= []).push(pair);
        const eq = pair.indexOf("=");
        if (eq >= 0 && found === null && pair.slice(0, eq) === cfg.name) found = pair.slice(eq + 1);
      }
    }
    if (found === null || pairs === null) return 0;
    let srvValue = found;
    let keep: string[] | null = null;
    if (cfg.mode === "prefix") {
      const tilde = found.indexOf("~");
      if (tilde < 0) return 0;
      srvValue = found.slice(0, tilde);
      // Each occurrence loses its own "srv~" prefix.
      keep = pairs.map((p) => {
        if (!p.startsWith(cfg.name + "=")) return p;
        const v = p.slice(cfg.name.length + 1);
        const t = v.indexOf("~");
        return t < 0 ? p : `${cfg.name}=${v.slice(t + 1)}`;
      });
    } else if (cfg.indirect) {
      keep = pairs.filter((p) => !p.startsWith(cfg.name + "="));
    }
    if (keep !== null) {
      rw.drop!.push(H_COOKIE);
      if (keep.length > 0) rw.add!.push(["Cookie", keep.join("; ")]);
    }
    const srv = this.#byValue.get(srvValue);
    if (srv === undefined) return 0;
    strm.stickTo = srv;
    return PERSIST_VALID;
  }

  /**
   * Response head from `srv`: inserts the cookie, or prefixes the
   * application's one. `valid` is what `request()` returned for a client
   * that was sent to this very server.
   */
  response(
    srv: Server,
    valid: boolean,
    msg: HttpMsg,
    a: Uint8Array,
    base: number,
    rw: RewriteOptions,
  ): void {
    const cfg = this.cfg;
    const insert = cfg.mode === "insert";
    const hdrs = msg.hdrs;
    let all: string[] | null = null;
    let hit = false;
    for (let h = 0; h < msg.nHdrs; h++) {
      const k = h * 4;
      if (!eqNoCase(a, base + hdrs[k], hdrs[k + 1], H_SET_COOKIE)) continue;
      const v = bytesToStr(a, base + hdrs[k + 2], hdrs[k + 3]);
      if (v.startsWith(cfg.name + "=")) {
        hit = true;
        // Insert: the cookie is ours, a server's own one is dropped.
        // Prefix: the application's cookie carries the server.
        if (!insert) (all ??= []).push(`${cfg.name}=${srv.cookie}~${v.slice(cfg.name.length + 1)}`);
      } else (all ??= []).push(v);
    }
    const add = rw.add!;
    if (hit) {
      // Every other Set-Cookie is re-added, in order, so only ours changes.
      rw.drop!.push(H_SET_COOKIE);
      for (const v of all ?? []) add.push(["Set-Cookie", v]);
    }
    // Like HAProxy, a client that came with a valid cookie gets no new one.
    if (!insert || valid) return;
    add.push([
      "Set-Cookie",
      cfg.attributes === ""
        ? `${cfg.name}=${srv.cookie}`
        : `${cfg.name}=${srv.cookie}; ${cfg.attributes}`,
    ]);
    if (cfg.nocache) add.push(["Cache-Control", "private"]);
  }
}

/** Hash of the path of the request target (`uri`), without the query string. */
export function uriKey(msg: HttpMsg, a: Uint8Array, base: number): number {
  let p = base + msg.uriPos, len = msg.uriLen;
  if (msg.flags & H1_MF_ABS_URI) {
    const auth = absoluteFormAuthority(a, p, len);
    const pathPos = absoluteFormPathPos(a, p, len, auth);
    p += pathPos;
    len -= pathPos;
  }
  let n = 0;
  while (n < len && a[p + n] !== 0x3f /* ? */) n++;
  // "http://host" and "http://host?q" are forwarded as "/": hash them so.
  return n === 0 ? hashBytes(SLASH, 0, 1) : hashBytes(a, p, n);
}

/**
 * Hash of the first value of header `name` (lowercase bytes): up to the
 * first comma, without surrounding blanks, as HAProxy's http_find_header().
 * With `domainOnly` (`use_domain_only`), only the main domain part: the label
 * before the last dot (`1wt` of `haproxy.1wt.eu`). -1 when the header is
 * absent or its value empty (HAProxy then falls back to round robin).
 */
export function hdrKey(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  name: Uint8Array,
  domainOnly = false,
): number {
  const hdrs = msg.hdrs;
  for (let h = 0; h < msg.nHdrs; h++) {
    const k = h * 4;
    if (!eqNoCase(a, base + hdrs[k], hdrs[k + 1], name)) continue;
    let p = base + hdrs[k + 2];
    let end = p + hdrs[k + 3];
    for (let i = p; i < end; i++) {
      if (a[i] === 0x2c /* , */) {
        end = i;
        break;
      }
    }
    while (p < end && (a[p] === 0x20 || a[p] === 0x09)) p++;
    while (end > p && (a[end - 1] === 0x20 || a[end - 1] === 0x09)) end--;
    if (end === p) return -1;
    if (domainOnly) [p, end] = mainDomain(a, p, end);
    return hashBytes(a, p, end - p);
  }
  return -1;
}

/**
 * The main domain part of `a[p, end)` as HAProxy's get_server_hh() finds
 * it: from the end, the last dot ends it and the dot before starts it
 * (`1wt` of `haproxy.1wt.eu`, `example` of `example.com`); without a dot, all.
 */
function mainDomain(a: Uint8Array, p: number, end: number): [number, number] {
  let i = end, stop = end, found = false;
  for (let n = end - p; n > 0; n--, i--) {
    if (found) {
      if (a[i - 1] === 0x2e /* . */) break;
    } else if (i < end && a[i] === 0x2e) {
      stop = i;
      found = true;
    }
  }
  return [i, stop];
}

const AMP = 0x26; /* & */
const EQ = 0x3d; /* = */
const QMARK = 0x3f; /* ? */

/**
 * Hash of the value of query parameter `name` (`?name=value&...`, the name
 * compared byte for byte, the value up to the next `&`), as HAProxy's
 * get_server_ph(); -1 when the request has no such parameter.
 */
export function urlParamKey(msg: HttpMsg, a: Uint8Array, base: number, name: Uint8Array): number {
  const start = base + msg.uriPos, end = start + msg.uriLen;
  let p = a.subarray(start, end).indexOf(QMARK);
  if (p < 0) return -1;
  p += start + 1;
  const n = name.length;
  while (end - p > n) {
    if (a[p + n] === EQ) {
      let j = 0;
      while (j < n && a[p + j] === name[j]) j++;
      if (j === n) {
        const v = p + n + 1;
        let e = v;
        while (e < end && a[e] !== AMP) e++;
        return hashBytes(a, v, e - v);
      }
    }
    const amp = a.subarray(p, end).indexOf(AMP);
    if (amp < 0) return -1;
    p += amp + 1;
  }
  return -1;
}
