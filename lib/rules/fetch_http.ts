/**
 * Sample fetches on a parsed HTTP head (HAProxy's http_fetch.c): the
 * request target and its parts, headers, method, version, status. Each
 * works on the offsets of the HttpMsg and hands byte ranges of the buffer
 * to the matcher; nothing is kept between calls.
 *
 * `hdr()` and its family read the head the rule sees: the request's in
 * `http-request` rules and `use_backend`, the response's in `http-response`
 * rules (as HAProxy); the registry (acl_fetch.ts) says which names are
 * request-only or response-only.
 *
 * @module
 */
import { eqNoCase, lc, TCHAR } from "../http/h1_chars.ts";
import { H1_MF_ABS_URI, H1_MF_CHNK, H1_MF_CLEN, H1_MF_VER_11 } from "../http/h1_types.ts";
import {
  type AclCtx,
  type AclFetch,
  type AclSampleSink,
  SMP_T_INT,
  SMP_T_STR,
} from "./acl_types.ts";

const SP = 0x20, HT = 0x09, COMMA = 0x2c, DQ = 0x22, BSL = 0x5c, QM = 0x3f, SLASH = 0x2f;
const COLON = 0x3a, EQ = 0x3d, AMP = 0x26, SEMI = 0x3b;

const V10 = new Uint8Array([0x31, 0x2e, 0x30]); // "1.0"
const V11 = new Uint8Array([0x31, 0x2e, 0x31]); // "1.1"

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
  m: AclSampleSink | null,
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
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
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
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
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
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const a = ctx.a;
    const u = ctx.base + ctx.msg.uriPos, end = u + ctx.msg.uriLen;
    const q = queryMark(a, u, end);
    return q < end ? m.matchBytes(a, q + 1, end - q - 1) : m.matchBytes(a, end, 0);
  }
}

class FetchUrlParam implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly name: Uint8Array | null, readonly delim: number) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
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
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
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
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(hdrWalk(ctx, this.name, this.full, 0, null));
  }
}

const H_COOKIE = lc("cookie");

/** Offsets (start, end pairs) of the cookie values `req.cook()` found; grows on demand. */
let COOK = new Int32Array(64);

/**
 * Walks the `name=value` pairs of every Cookie header (pairs end at ";";
 * spaces around names and values are ignored, RFC 6265) and records the
 * values of those called `name` (case-sensitive; null: every cookie) in
 * COOK. Returns the number of values.
 */
function cookWalk(ctx: AclCtx, name: Uint8Array | null): number {
  const msg = ctx.msg, a = ctx.a, base = ctx.base, hdrs = msg.hdrs;
  let n = 0;
  for (let k = 0; k < msg.nHdrs * 4; k += 4) {
    if (!eqNoCase(a, base + hdrs[k], hdrs[k + 1], H_COOKIE)) continue;
    const ve = base + hdrs[k + 2] + hdrs[k + 3];
    let i = base + hdrs[k + 2];
    while (i < ve) {
      while (i < ve && (a[i] === SP || a[i] === HT || a[i] === SEMI)) i++;
      const ns = i;
      while (i < ve && a[i] !== EQ && a[i] !== SEMI) i++;
      let ne = i;
      while (ne > ns && (a[ne - 1] === SP || a[ne - 1] === HT)) ne--;
      if (i >= ve || a[i] !== EQ) continue; // no "=": not a cookie
      i++;
      while (i < ve && (a[i] === SP || a[i] === HT)) i++;
      const vs = i;
      while (i < ve && a[i] !== SEMI) i++;
      let e = i;
      while (e > vs && (a[e - 1] === SP || a[e - 1] === HT)) e--;
      if (ne === ns) continue;
      if (name !== null) {
        if (ne - ns !== name.length) continue;
        let same = true;
        for (let j = 0; j < name.length; j++) {
          if (a[ns + j] !== name[j]) {
            same = false;
            break;
          }
        }
        if (!same) continue;
      }
      if (2 * n + 2 > COOK.length) {
        const more = new Int32Array(COOK.length * 2);
        more.set(COOK);
        COOK = more;
      }
      COOK[2 * n] = vs;
      COOK[2 * n + 1] = e;
      n++;
    }
  }
  return n;
}

/**
 * `req.cook(name)`: the value of each cookie called `name`, the last one
 * first (a sample takes the first one handed: HAProxy's "last occurrence";
 * an ACL tests them all); without a name, every cookie's value, the first
 * one first (HAProxy's "first cookie value").
 */
class FetchCook implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string, readonly name: Uint8Array | null) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const n = cookWalk(ctx, this.name);
    const a = ctx.a;
    for (let j = 0; j < n; j++) {
      const k = this.name === null ? j : n - 1 - j;
      // COOK may be replaced by a nested walk: read both offsets first.
      const s = COOK[2 * k], e = COOK[2 * k + 1];
      if (m.matchBytes(a, s, e - s)) return true;
    }
    return false;
  }
}

/** `req.cook_cnt(name)`: how many cookies called `name` (every cookie without a name). */
class FetchCookCnt implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string, readonly name: Uint8Array | null) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(cookWalk(ctx, this.name));
  }
}

/**
 * `req.body_size`: the request's Content-Length; 0 without a body. For a
 * chunked body HAProxy gives the data received so far: rules run on the
 * head, before any of it is read, so 0.
 */
class FetchBodySize implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    const msg = ctx.msg;
    return m.matchInt((msg.flags & H1_MF_CLEN) && !(msg.flags & H1_MF_CHNK) ? msg.bodyLen : 0);
  }
}

class FetchMethod implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchBytes(ctx.a, ctx.base + ctx.msg.methPos, ctx.msg.methLen);
  }
}

class FetchVer implements AclFetch {
  readonly type = SMP_T_STR;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchBytes((ctx.msg.flags & H1_MF_VER_11) !== 0 ? V11 : V10, 0, 3);
  }
}

class FetchStatus implements AclFetch {
  readonly type = SMP_T_INT;
  constructor(readonly kw: string) {}
  exec(ctx: AclCtx, m: AclSampleSink): boolean {
    return m.matchInt(ctx.msg.status);
  }
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

/** `path`. */
export function fetchPathNew(word: string): AclFetch {
  return new FetchPath(word);
}

/** `url`. */
export function fetchUrlNew(word: string): AclFetch {
  return new FetchUrl(word);
}

/** `query`. */
export function fetchQueryNew(word: string): AclFetch {
  return new FetchQuery(word);
}

/** `method`. */
export function fetchMethodNew(word: string): AclFetch {
  return new FetchMethod(word);
}

/** `req.ver`, `res.ver`. */
export function fetchVerNew(word: string): AclFetch {
  return new FetchVer(word);
}

/** `status`. */
export function fetchStatusNew(word: string): AclFetch {
  return new FetchStatus(word);
}

/** `url_param([name[,delim]])`. */
export function fetchUrlParamNew(word: string, args: readonly string[]): AclFetch | string {
  if (args.length > 2) return `too many arguments in "${word}" (expected name and delimiter)`;
  const name = args[0] ?? "";
  const delim = args[1] ?? "&";
  if (delim.length !== 1 || delim.charCodeAt(0) > 0x7f) {
    return `invalid delimiter "${delim}" in "${word}": expected one ASCII character`;
  }
  const nameBytes = name === "" ? null : new TextEncoder().encode(name);
  return new FetchUrlParam(word, nameBytes, delim.charCodeAt(0));
}

/** A cookie name argument (a token, case-sensitive) as bytes; "" or none: null (every cookie). */
function cookName(word: string, args: readonly string[]): Uint8Array | null | string {
  if (args.length > 1) return `too many arguments in "${word}" (expected a cookie name)`;
  const name = args[0] ?? "";
  if (name === "") return null;
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
    return `invalid cookie name "${name}" in "${word}"`;
  }
  return new TextEncoder().encode(name);
}

/** `req.cook([name])`, `cook([name])`. */
export function fetchCookNew(word: string, args: readonly string[]): AclFetch | string {
  const name = cookName(word, args);
  return typeof name === "string" ? name : new FetchCook(word, name);
}

/** `req.cook_cnt([name])`, `cook_cnt([name])`. */
export function fetchCookCntNew(word: string, args: readonly string[]): AclFetch | string {
  const name = cookName(word, args);
  return typeof name === "string" ? name : new FetchCookCnt(word, name);
}

/** `req.body_size`. */
export function fetchBodySizeNew(word: string): AclFetch {
  return new FetchBodySize(word);
}

/** `hdr(name[,occ])` (`full` false) and `fhdr(name[,occ])` (`full` true). */
function hdrNew(word: string, args: readonly string[], full: boolean): AclFetch | string {
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
  return new FetchHdr(word, name, full, occ);
}

/** `hdr(name[,occ])`: comma-separated elements. */
export function fetchHdrNew(word: string, args: readonly string[]): AclFetch | string {
  return hdrNew(word, args, false);
}

/** `fhdr(name[,occ])`: whole values. */
export function fetchFhdrNew(word: string, args: readonly string[]): AclFetch | string {
  return hdrNew(word, args, true);
}

/** `hdr_cnt([name])` (`full` false) and `fhdr_cnt([name])` (`full` true). */
function hdrCntNew(word: string, args: readonly string[], full: boolean): AclFetch | string {
  if (args.length > 1) return `too many arguments in "${word}" (expected a header name)`;
  let name: Uint8Array | null = null;
  if (args.length === 1 && args[0] !== "") {
    const n = hdrName(word, args[0]);
    if (typeof n === "string") return n;
    name = n;
  }
  return new FetchHdrCnt(word, name, full);
}

/** `hdr_cnt([name])`. */
export function fetchHdrCntNew(word: string, args: readonly string[]): AclFetch | string {
  return hdrCntNew(word, args, false);
}

/** `fhdr_cnt([name])`. */
export function fetchFhdrCntNew(word: string, args: readonly string[]): AclFetch | string {
  return hdrCntNew(word, args, true);
}
