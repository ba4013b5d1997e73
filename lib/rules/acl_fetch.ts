/**
 * Sample fetches on a parsed request or response head (HAProxy's
 * http_fetch.c and smp_fetch_src/ssl_sni), and the ACL keywords built on
 * them (`path_beg` is `path` with the `beg` method).
 *
 * `hdr()` and its family read the head the rule sees: the request's in
 * `http-request` rules and `use_backend`, the response's in `http-response`
 * rules (as HAProxy). `req.hdr()` is request-only, `res.hdr()` and `status`
 * response-only; request fetches (`path`, `method`...) cannot be used in
 * response rules — keep what is needed with `http-request set-var(txn.x)`
 * and test `var(txn.x)`.
 *
 * Every fetch works on the offsets of the HttpMsg and hands byte ranges of
 * the request buffer to the matcher; `src` and `req.ssl_sni` (strings in the
 * context) are copied into a scratch buffer first. Nothing is kept between
 * calls.
 *
 * | fetch                        | samples (type)                                         |
 * | ---------------------------- | ------------------------------------------------------ |
 * | `path`                       | target path, without the query; none for `*` or an absolute target without a path (string) |
 * | `url`                        | the whole request target as received (string)          |
 * | `query`                      | the part after the first `?`; empty when there is none (string) |
 * | `url_param(name[,delim])`    | the value of each `name=` parameter of the query; parameters end at `&`, `;` or `delim`; no name: every parameter's value (string) |
 * | `hdr(name[,occ])`            | each comma-separated element of each `name` header (quotes respected, spaces trimmed); `occ` > 0: only the occ-th, < 0: counted from the last (string) |
 * | `fhdr(name[,occ])`           | like hdr() but whole header values, not split on commas (string) |
 * | `hdr_cnt([name])`            | the number of elements hdr(name) would yield; no name: of all headers (integer) |
 * | `fhdr_cnt([name])`           | the number of `name` headers; no name: of all headers (integer) |
 * | `method`                     | the method, case-sensitive (string)                    |
 * | `req.ver`, `res.ver`         | `1.0` or `1.1` (string)                                |
 * | `status`                     | the response status (integer; responses only)          |
 * | `var(txn.name)`              | a variable set by `http-request set-var` (string)      |
 * | `src`                        | the client address (address)                           |
 * | `req.ssl_sni`, `ssl_fc_sni`  | the TLS SNI; none when absent (string)                 |
 * | `src_port`, `dst_port`       | the client's port, the port it connected to (integer)  |
 * | `dst`                        | the address the client connected to (address)          |
 * | `ssl_fc`                     | the client connection is TLS (boolean)                 |
 * | `always_true`/`always_false` | a boolean                                              |
 *
 * @module
 */
import { eqNoCase, lc, TCHAR } from "../http/h1_chars.ts";
import { H1_MF_ABS_URI, H1_MF_VER_11 } from "../http/h1_types.ts";
import {
  type AclCtx,
  type AclFetch,
  type AclMatcher,
  type AclMatchKind,
  SMP_T_BOOL,
  SMP_T_INT,
  SMP_T_IP,
  SMP_T_STR,
  SMP_USE_CONN,
  SMP_USE_REQ,
  SMP_USE_RES,
} from "./acl_types.ts";

const SP = 0x20, HT = 0x09, COMMA = 0x2c, DQ = 0x22, BSL = 0x5c, QM = 0x3f, SLASH = 0x2f;
const COLON = 0x3a, EQ = 0x3d, AMP = 0x26, SEMI = 0x3b;

const V10 = new Uint8Array([0x31, 0x2e, 0x30]); // "1.0"
const V11 = new Uint8Array([0x31, 0x2e, 0x31]); // "1.1"

/** Scratch bytes for samples held as strings in the context (src, sni); grows on demand. */
let STR = new Uint8Array(256);

/** Copies `s` (Latin-1; higher code units keep their low byte) into STR; returns its length. */
function strScratch(s: string): number {
  const n = s.length;
  if (n > STR.length) STR = new Uint8Array(Math.max(n, STR.length * 2));
  for (let i = 0; i < n; i++) STR[i] = s.charCodeAt(i);
  return n;
}

/**
 * Absolute offset in `a` of the path of the target `a[u, end)`, or -1 when
 * it has none: origin form starts with it; absolute form has it after
 * `scheme://authority` (none when the authority is followed by `?` or the
 * end); asterisk form has none (HAProxy's http_get_path()).
 */
function pathStart(a: Uint8Array, u: number, end: number, abs: boolean): number {
  if (u < end && a[u] === SLASH) return u;
  if (!abs) return -1;
  let i = u;
  while (i < end && a[i] !== COLON) i++;
  i += 3; // "://", checked by the parser (H1_MF_ABS_URI)
  while (i < end && a[i] !== SLASH && a[i] !== QM) i++;
  return i < end && a[i] === SLASH ? i : -1;
}

/** Absolute offset of the first `?` in `a[u, end)`, or `end`. */
function queryMark(a: Uint8Array, u: number, end: number): number {
  let q = u;
  while (q < end && a[q] !== QM) q++;
  return q;
}

/**
 * Walks the values of the headers called `name` (lowercase; null: every
 * header). With `full`, a value is the whole field value; otherwise each
 * comma-separated element (commas inside double quotes do not split; spaces
 * around elements are trimmed; empty elements count), as HAProxy's
 * http_find_header(). With a matcher, hands it every element (`nth` 0) or
 * only the nth (from 1) and returns -1 at the first match. Otherwise, or
 * when nothing matched, returns the number of elements seen.
 */
function hdrWalk(
  ctx: AclCtx,
  name: Uint8Array | null,
  full: boolean,
  nth: number,
  m: AclMatcher | null,
): number {
  const msg = ctx.msg, a = ctx.a, base = ctx.base, hdrs = msg.hdrs;
  const n4 = msg.nHdrs * 4;
  let count = 0;
  for (let k = 0; k < n4; k += 4) {
    if (name !== null && !eqNoCase(a, base + hdrs[k], hdrs[k + 1], name)) continue;
    const vp = base + hdrs[k + 2], ve = vp + hdrs[k + 3];
    if (full) {
      count++;
      if (m !== null && (nth === 0 || count === nth)) {
        if (m.matchBytes(a, vp, ve - vp)) return -1;
        if (nth !== 0) return count;
      }
      continue;
    }
    let i = vp;
    for (;;) {
      let s = i;
      while (s < ve && (a[s] === SP || a[s] === HT)) s++;
      let j = s;
      let quoted = false;
      while (j < ve) {
        const c = a[j];
        if (quoted) {
          if (c === BSL) j++;
          else if (c === DQ) quoted = false;
        } else if (c === DQ) quoted = true;
        else if (c === COMMA) break;
        j++;
      }
      if (j > ve) j = ve; // a backslash ended the value
      let e = j;
      while (e > s && (a[e - 1] === SP || a[e - 1] === HT)) e--;
      count++;
      if (m !== null && (nth === 0 || count === nth)) {
        if (m.matchBytes(a, s, e - s)) return -1;
        if (nth !== 0) return count;
      }
      if (j >= ve) break;
      i = j + 1;
    }
  }
  return count;
}

class FetchPath implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const a = ctx.a, msg = ctx.msg;
    const u = ctx.base + msg.uriPos, end = u + msg.uriLen;
    const p = pathStart(a, u, end, (msg.flags & H1_MF_ABS_URI) !== 0);
    if (p < 0) return false;
    return m.matchBytes(a, p, queryMark(a, p, end) - p);
  }
}

class FetchUrl implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchBytes(ctx.a, ctx.base + ctx.msg.uriPos, ctx.msg.uriLen);
  }
}

/**
 * The query string. HAProxy yields no sample when there is no `?`; sluice
 * yields an empty one (so `query -m len 0` is true for "/a" and "/a?").
 */
class FetchQuery implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const a = ctx.a;
    const u = ctx.base + ctx.msg.uriPos, end = u + ctx.msg.uriLen;
    const q = queryMark(a, u, end);
    return q < end ? m.matchBytes(a, q + 1, end - q - 1) : m.matchBytes(a, end, 0);
  }
}

class FetchUrlParam implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly name: Uint8Array | null, readonly delim: number) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const a = ctx.a;
    const u = ctx.base + ctx.msg.uriPos, end = u + ctx.msg.uriLen;
    const name = this.name, d = this.delim;
    const nl = name === null ? 0 : name.length;
    let i = queryMark(a, u, end) + 1;
    while (i < end) {
      let j = i;
      while (j < end && a[j] !== AMP && a[j] !== SEMI && a[j] !== d) j++;
      if (name === null) {
        let e = i;
        while (e < j && a[e] !== EQ) e++;
        if (e < j && m.matchBytes(a, e + 1, j - e - 1)) return true;
      } else if (j - i > nl && a[i + nl] === EQ) {
        let same = true;
        for (let k = 0; k < nl; k++) {
          if (a[i + k] !== name[k]) {
            same = false;
            break;
          }
        }
        if (same && m.matchBytes(a, i + nl + 1, j - i - nl - 1)) return true;
      }
      i = j + 1;
    }
    return false;
  }
}

class FetchHdr implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(
    readonly kw: string,
    readonly name: Uint8Array,
    readonly full: boolean,
    readonly occ: number,
  ) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const occ = this.occ;
    if (occ === 0) return hdrWalk(ctx, this.name, this.full, 0, m) < 0;
    let nth = occ;
    if (occ < 0) {
      nth = hdrWalk(ctx, this.name, this.full, 0, null) + occ + 1;
      if (nth < 1) return false;
    }
    return hdrWalk(ctx, this.name, this.full, nth, m) < 0;
  }
}

class FetchHdrCnt implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string, readonly name: Uint8Array | null, readonly full: boolean) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchInt(hdrWalk(ctx, this.name, this.full, 0, null));
  }
}

class FetchMethod implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchBytes(ctx.a, ctx.base + ctx.msg.methPos, ctx.msg.methLen);
  }
}

class FetchVer implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchBytes((ctx.msg.flags & H1_MF_VER_11) !== 0 ? V11 : V10, 0, 3);
  }
}

class FetchStatus implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchInt(ctx.msg.status);
  }
}

class FetchSrc implements AclFetch {
  readonly type = SMP_T_IP;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const n = strScratch(ctx.src);
    return n > 0 && m.matchBytes(STR, 0, n);
  }
}

/** `src_port` / `dst_port`: a port of the client connection. */
class FetchPort implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string, readonly dst: boolean) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const p = this.dst ? ctx.dstPort : ctx.srcPort;
    return p !== undefined && p > 0 && m.matchInt(p);
  }
}

/** `dst`: the address the client connected to. */
class FetchDst implements AclFetch {
  readonly type = SMP_T_IP;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const n = strScratch(ctx.dst ?? "");
    return n > 0 && m.matchBytes(STR, 0, n);
  }
}

/** `ssl_fc`: the client connection is TLS. */
class FetchSslFc implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchInt(ctx.tls === true ? 1 : 0);
  }
}

class FetchSni implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const sni = ctx.sni;
    if (sni === null) return false;
    const n = strScratch(sni); // may replace STR: read it after
    return m.matchBytes(STR, 0, n);
  }
}

/** `var(txn.name)`: a variable set by an earlier `http-request set-var` of this request. */
class FetchVar implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly name: string) {}
  exec(ctx: AclCtx, m: AclMatcher): boolean {
    const v = ctx.vars?.get(this.name);
    if (v === undefined) return false;
    const n = strScratch(v); // may replace STR: read it after
    return m.matchBytes(STR, 0, n);
  }
}

class FetchBool implements AclFetch {
  readonly type = SMP_T_BOOL;
  constructor(readonly kw: string, readonly value: boolean) {}
  exec(_ctx: AclCtx, m: AclMatcher): boolean {
    return m.matchInt(this.value ? 1 : 0);
  }
}

/** Base fetches, which the keywords below name with a default method. */
type FetchBase =
  | "path"
  | "url"
  | "query"
  | "url_param"
  | "hdr"
  | "fhdr"
  | "hdr_cnt"
  | "fhdr_cnt"
  | "method"
  | "ver"
  | "status"
  | "src"
  | "src_port"
  | "dst"
  | "dst_port"
  | "ssl_fc"
  | "req.ssl_sni"
  | "always_true"
  | "always_false"
  | "var";

const REQ = SMP_USE_REQ, HTTP = SMP_USE_REQ | SMP_USE_RES, ANY = SMP_USE_CONN | HTTP;
const RES = SMP_USE_RES;

/**
 * ACL keywords: base fetch, default matching method and where it can be
 * used (HAProxy's acl_kws + sample_fetch_keywords).
 */
const KWS: Readonly<Record<string, readonly [FetchBase, AclMatchKind, number]>> = {
  "path": ["path", "str", REQ],
  "path_beg": ["path", "beg", REQ],
  "path_end": ["path", "end", REQ],
  "path_sub": ["path", "sub", REQ],
  "path_reg": ["path", "reg", REQ],
  "path_dom": ["path", "dom", REQ],
  "path_dir": ["path", "dir", REQ],
  "path_len": ["path", "len", REQ],
  "url": ["url", "str", REQ],
  "url_beg": ["url", "beg", REQ],
  "url_end": ["url", "end", REQ],
  "url_sub": ["url", "sub", REQ],
  "url_reg": ["url", "reg", REQ],
  "url_dom": ["url", "dom", REQ],
  "url_dir": ["url", "dir", REQ],
  "url_len": ["url", "len", REQ],
  "query": ["query", "str", REQ],
  "url_param": ["url_param", "str", REQ],
  "urlp": ["url_param", "str", REQ],
  "urlp_val": ["url_param", "int", REQ],
  "hdr": ["hdr", "str", HTTP],
  "hdr_beg": ["hdr", "beg", HTTP],
  "hdr_end": ["hdr", "end", HTTP],
  "hdr_sub": ["hdr", "sub", HTTP],
  "hdr_reg": ["hdr", "reg", HTTP],
  "hdr_dom": ["hdr", "dom", HTTP],
  "hdr_dir": ["hdr", "dir", HTTP],
  "hdr_len": ["hdr", "len", HTTP],
  "hdr_val": ["hdr", "int", HTTP],
  "hdr_ip": ["hdr", "ip", HTTP],
  "hdr_cnt": ["hdr_cnt", "int", HTTP],
  "req.hdr": ["hdr", "str", REQ],
  "req.hdr_cnt": ["hdr_cnt", "int", REQ],
  "req.hdr_val": ["hdr", "int", REQ],
  "req.hdr_ip": ["hdr", "ip", REQ],
  "fhdr": ["fhdr", "str", HTTP],
  "req.fhdr": ["fhdr", "str", REQ],
  "fhdr_cnt": ["fhdr_cnt", "int", HTTP],
  "req.fhdr_cnt": ["fhdr_cnt", "int", REQ],
  "method": ["method", "str", REQ],
  "req.ver": ["ver", "str", REQ],
  "req_ver": ["ver", "str", REQ],
  "src": ["src", "ip", ANY],
  "req.ssl_sni": ["req.ssl_sni", "str", REQ],
  "req_ssl_sni": ["req.ssl_sni", "str", REQ],
  "ssl_fc_sni": ["req.ssl_sni", "str", HTTP],
  "src_port": ["src_port", "int", ANY],
  "dst": ["dst", "ip", ANY],
  "dst_port": ["dst_port", "int", ANY],
  "ssl_fc": ["ssl_fc", "bool", ANY],
  "always_true": ["always_true", "bool", ANY],
  "always_false": ["always_false", "bool", ANY],
  "var": ["var", "str", HTTP],
  "status": ["status", "int", RES],
  "res.ver": ["ver", "str", RES],
  "resp_ver": ["ver", "str", RES],
  "res.hdr": ["hdr", "str", RES],
  "res.hdr_cnt": ["hdr_cnt", "int", RES],
  "res.hdr_val": ["hdr", "int", RES],
  "res.hdr_ip": ["hdr", "ip", RES],
  "res.fhdr": ["fhdr", "str", RES],
  "res.fhdr_cnt": ["fhdr_cnt", "int", RES],
  "shdr": ["hdr", "str", RES],
  "shdr_beg": ["hdr", "beg", RES],
  "shdr_end": ["hdr", "end", RES],
  "shdr_sub": ["hdr", "sub", RES],
  "shdr_reg": ["hdr", "reg", RES],
  "shdr_val": ["hdr", "int", RES],
};

/** A fetch and the matching method its keyword implies. */
export interface AclFetchSpec {
  readonly fetch: AclFetch;
  /** Default matching method (`-m` overrides it). */
  readonly match: AclMatchKind;
  /** SMP_USE_* bits: where it has its input. */
  readonly use: number;
}

/** Header name argument as lowercase bytes, or why it is not one. */
function hdrName(word: string, arg: string | undefined): Uint8Array | string {
  if (arg === undefined || arg === "") return `missing header name in "${word}"`;
  for (let i = 0; i < arg.length; i++) {
    const c = arg.charCodeAt(i);
    if (c > 0xff || !TCHAR[c]) return `invalid header name "${arg}" in "${word}"`;
  }
  return lc(arg);
}

/** Builds the base fetch `base` from its arguments, or says why they are wrong. */
function fetchNew(base: FetchBase, word: string, args: readonly string[]): AclFetch | string {
  const noArgs = (f: AclFetch) => args.length === 0 ? f : `fetch "${base}" takes no argument`;
  switch (base) {
    case "path":
      return noArgs(new FetchPath(word));
    case "url":
      return noArgs(new FetchUrl(word));
    case "query":
      return noArgs(new FetchQuery(word));
    case "method":
      return noArgs(new FetchMethod(word));
    case "ver":
      return noArgs(new FetchVer(word));
    case "status":
      return noArgs(new FetchStatus(word));
    case "src":
      return noArgs(new FetchSrc(word));
    case "req.ssl_sni":
      return noArgs(new FetchSni(word));
    case "src_port":
    case "dst_port":
      return noArgs(new FetchPort(word, base === "dst_port"));
    case "dst":
      return noArgs(new FetchDst(word));
    case "ssl_fc":
      return noArgs(new FetchSslFc(word));
    case "always_true":
      return noArgs(new FetchBool(word, true));
    case "always_false":
      return noArgs(new FetchBool(word, false));
    case "var": {
      const name = args[0] ?? "";
      if (args.length !== 1 || !/^(txn|req)\.[A-Za-z0-9_.]+$/.test(name)) {
        return `expected var(txn.NAME) in "${word}"`;
      }
      // txn and req scopes are the same here: one request.
      return new FetchVar(word, name.replace(/^req\./, "txn."));
    }
    case "url_param": {
      if (args.length > 2) return `too many arguments in "${word}" (expected name and delimiter)`;
      const name = args[0] ?? "";
      const delim = args[1] ?? "&";
      if (delim.length !== 1 || delim.charCodeAt(0) > 0x7f) {
        return `invalid delimiter "${delim}" in "${word}": expected one ASCII character`;
      }
      const nameBytes = name === "" ? null : new TextEncoder().encode(name);
      return new FetchUrlParam(word, nameBytes, delim.charCodeAt(0));
    }
    case "hdr":
    case "fhdr": {
      if (args.length > 2) return `too many arguments in "${word}" (expected name and occurrence)`;
      const name = hdrName(word, args[0]);
      if (typeof name === "string") return name;
      let occ = 0;
      if (args.length === 2) {
        if (!/^-?[0-9]{1,6}$/.test(args[1])) {
          return `invalid occurrence "${args[1]}" in "${word}": expected an integer`;
        }
        occ = Number(args[1]);
      }
      return new FetchHdr(word, name, base === "fhdr", occ);
    }
    case "hdr_cnt":
    case "fhdr_cnt": {
      if (args.length > 1) return `too many arguments in "${word}" (expected a header name)`;
      let name: Uint8Array | null = null;
      if (args.length === 1 && args[0] !== "") {
        const n = hdrName(word, args[0]);
        if (typeof n === "string") return n;
        name = n;
      }
      return new FetchHdrCnt(word, name, base === "fhdr_cnt");
    }
  }
}

const FETCH_RE = /^([A-Za-z0-9_.]+)(?:\(([^()]*)\))?(.*)$/s;

/**
 * Parses an ACL fetch word (`path_beg`, `hdr(host)`, `hdr(x-a,-1)`,
 * `url_param(id)`): returns the compiled fetch and its default matching
 * method, or a string saying why the word is refused (unknown fetch, bad or
 * missing argument, converters).
 *
 * @example
 * ```ts
 * import { aclFetchParse } from "./acl_fetch.ts";
 * const spec = aclFetchParse("hdr_beg(host)");
 * // typeof spec !== "string" && spec.match === "beg"
 * ```
 */
export function aclFetchParse(word: string): AclFetchSpec | string {
  const m = FETCH_RE.exec(word);
  if (m === null) return `unknown fetch "${word}"`;
  const [, kw, argText, rest] = m;
  if (rest !== "") {
    if (rest.startsWith("(")) return `missing ")" or unexpected "(" in "${word}"`;
    if (rest.startsWith(",")) {
      const head = word.slice(0, word.length - rest.length);
      return `converters are not supported ("${rest.slice(1)}" after "${head}")`;
    }
    return `unknown fetch "${word}"`;
  }
  const def = KWS[kw];
  if (def === undefined || !Object.hasOwn(KWS, kw)) return `unknown fetch "${kw}"`;
  const args = argText === undefined || argText === "" ? [] : argText.split(",");
  const fetch = fetchNew(def[0], word, args);
  if (typeof fetch === "string") return fetch;
  return { fetch, match: def[1], use: def[2] };
}

/** Every ACL fetch keyword, for help texts and the README's keyword table. */
export const ACL_FETCH_KWS: readonly string[] = Object.keys(KWS);
