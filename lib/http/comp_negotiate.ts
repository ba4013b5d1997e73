/**
 * Which responses are compressed, and how, as HAProxy 2.6's compression
 * filter (src/flt_http_comp.c) decides: the algorithm from the request's
 * Accept-Encoding (q-values, `*`, `identity`), then the response's
 * conditions (HTTP/1.1 on both sides, not HEAD, status 200-203, a body with
 * a known length, no Content-Encoding, no `Cache-Control: no-transform`, a
 * valid single ETag, the Content-Type listed by `compression type`, not
 * multipart).
 *
 * @module
 */
import type { CompAlgoName } from "./comp_algo.ts";
import { compToken } from "./comp_algo.ts";
import { bytesToStr, eqNoCase, lc } from "./h1_chars.ts";
import type { HttpMsg } from "./h1_types.ts";

/** Compression settings of a frontend or backend (`compression algo|type|offload`). */
export interface CompOptions {
  /** Algorithms, most recently configured first (HAProxy's list order: `*` takes the first). Empty: none. */
  readonly algos: readonly CompAlgoName[];
  /** Content-Type prefixes, lowercase, most recently configured first. Empty: any type. */
  readonly types: readonly string[];
  /** `compression offload`: Accept-Encoding is removed from requests that get an algorithm. */
  readonly offload: boolean;
}

/** The settings in force for a transaction: each from the backend when it sets it, else the frontend's. */
export interface CompSettings {
  readonly algos: readonly CompAlgoName[];
  readonly types: readonly string[];
  readonly offload: boolean;
}

/** Merges the frontend's and the backend's settings (null when neither compresses). */
export function compSettings(
  fe: CompOptions | null,
  be: CompOptions | null,
): CompSettings | null {
  if (fe === null && be === null) return null;
  const pick = <T>(f: (o: CompOptions) => readonly T[]) =>
    be !== null && f(be).length > 0 ? f(be) : fe !== null ? f(fe) : [];
  return {
    algos: pick((o) => o.algos),
    types: pick((o) => o.types),
    offload: (be?.offload ?? false) || (fe?.offload ?? false),
  };
}

const H_ACCEPT_ENCODING = lc("accept-encoding");
const H_USER_AGENT = lc("user-agent");
const H_CONTENT_ENCODING = lc("content-encoding");
const H_CACHE_CONTROL = lc("cache-control");
const H_ETAG = lc("etag");
const H_CONTENT_TYPE = lc("content-type");

/** The values of every `name` header of a parsed head, in order (Latin-1). */
export function headerValues(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  name: Uint8Array,
): string[] {
  const r: string[] = [];
  const h = msg.hdrs;
  for (let k = 0; k < msg.nHdrs * 4; k += 4) {
    if (eqNoCase(a, base + h[k], h[k + 1], name)) r.push(bytesToStr(a, base + h[k + 2], h[k + 3]));
  }
  return r;
}

/** Comma-separated elements of header values, trimmed (quoted commas kept). */
function elements(values: string[]): string[] {
  const r: string[] = [];
  for (const v of values) {
    let q = false, s = 0;
    for (let i = 0; i <= v.length; i++) {
      const c = v[i];
      if (c === '"') q = !q;
      if (i === v.length || (c === "," && !q)) {
        const e = v.slice(s, i).trim();
        if (e !== "") r.push(e);
        s = i + 1;
      }
    }
  }
  return r;
}

/** HAProxy's http_parse_qvalue(): "1", "0.5", "0.125" as 0..1000 (a missing or odd value is 1000). */
export function parseQvalue(s: string): number {
  const d = (i: number) => s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39;
  if (!d(0)) return 1000;
  let q = (s.charCodeAt(0) - 0x30) * 1000;
  if (s[1] === ".") {
    for (let i = 2, m = 100; i < 5 && d(i); i++, m /= 10) q += (s.charCodeAt(i) - 0x30) * m;
  }
  return q > 1000 ? 1000 : q;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]*/;

/**
 * Old browsers that announce "Mozilla/4" break on compressed responses,
 * except MSIE 6 with XP SP2 and MSIE 7 and later (HAProxy's exception,
 * byte for byte).
 */
export function brokenAgent(ua: string | undefined): boolean {
  if (ua === undefined || ua.length < 9 || !ua.startsWith("Mozilla/4")) return false;
  if (ua.length < 31 || ua.slice(25, 30) !== "MSIE ") return true;
  const v = ua[30];
  if (v < "6") return true;
  return v === "6" && (ua.length < 54 || ua.slice(51, 54) !== "SV1");
}

/**
 * The algorithm for a request: the configured one the client accepts with
 * the highest q-value (q=0 refuses; on a tie the earlier element wins; `*`
 * takes the first of the list), or null (the caller falls back to
 * `identity` when it is configured). See also compAgentOk().
 */
export function compSelect(
  s: CompSettings,
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
): CompAlgoName | null {
  let best: CompAlgoName | null = null, bestQ = 0;
  for (const e of elements(headerValues(msg, a, base, H_ACCEPT_ENCODING))) {
    const tok = TOKEN.exec(e)![0];
    let q = 1000;
    for (const p of e.slice(tok.length).split(";").slice(1)) {
      const t = p.trim();
      if (t.startsWith("q=")) {
        q = parseQvalue(t.slice(2));
        break;
      }
    }
    if (q <= bestQ) continue;
    const hit = tok[0] === "*"
      ? s.algos[0]
      : s.algos.find((al) => compToken(al).toLowerCase() === tok.toLowerCase());
    if (hit !== undefined) {
      best = hit;
      bestQ = q;
    }
  }
  return best;
}

/** False for a request from an agent that breaks on compressed responses (not even `identity` then). */
export function compAgentOk(msg: HttpMsg, a: Uint8Array, base: number): boolean {
  return !brokenAgent(headerValues(msg, a, base, H_USER_AGENT)[0]);
}

/** HAProxy's ETag types: a strong `"x"`, a weak `W/"x"`, or invalid. */
export function etagType(v: string): "strong" | "weak" | "invalid" {
  if (v.length >= 2 && v[0] === '"' && v[v.length - 1] === '"') return "strong";
  if (v.length >= 4 && v.startsWith('W/"') && v[v.length - 1] === '"') return "weak";
  return "invalid";
}

/** What the response head needs to tell: the request's method and versions, and the body's framing. */
export interface CompResponseFacts {
  /** Request and response are both HTTP/1.1. */
  readonly http11: boolean;
  /** The request was HEAD. */
  readonly head: boolean;
  readonly status: number;
  /** The body has a known length (Content-Length or chunked, not until close) and is not empty. */
  readonly body: boolean;
}

/**
 * Whether a response may be compressed, as HAProxy's
 * select_compression_response_header(); `etag` receives the response's
 * single ETag value (or null) for the caller to weaken.
 */
export function compResponseOk(
  s: CompSettings,
  facts: CompResponseFacts,
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
): { etag: string | null } | null {
  if (!facts.http11 || facts.head) return null;
  if (facts.status < 200 || facts.status > 203) return null;
  if (!facts.body) return null;
  if (headerValues(msg, a, base, H_CONTENT_ENCODING).length > 0) return null;
  for (const e of elements(headerValues(msg, a, base, H_CACHE_CONTROL))) {
    if (e.toLowerCase() === "no-transform") return null;
  }
  const etags = headerValues(msg, a, base, H_ETAG);
  if (etags.length > 1) return null;
  const etag = etags.length === 1 ? etags[0].trim() : null;
  if (etag !== null && etagType(etag) === "invalid") return null;
  const ct = headerValues(msg, a, base, H_CONTENT_TYPE)[0];
  if (ct !== undefined) {
    const t = ct.trim().toLowerCase();
    if (t.startsWith("multipart")) return null;
    if (s.types.length > 0 && !s.types.some((p) => t.startsWith(p))) return null;
  } else if (s.types.length > 0) return null;
  return { etag };
}
