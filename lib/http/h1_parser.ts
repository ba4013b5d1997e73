/**
 * Strict, incremental HTTP/1.1 head parser (RFC 9112, RFC 9110).
 *
 * `h1ParseHead()` works on a contiguous byte range holding the start of a
 * message and may be called again as more bytes arrive: it first searches
 * for the end of the head from where the previous call stopped (so the total
 * work is linear whatever the split), checking line endings and size limits
 * on the way, then parses the complete head once, recording offsets.
 *
 * It returns the head length (> 0) when complete, 0 when more bytes are
 * needed, and -1 on error with `errCode` (the status to answer), `errPos`
 * (offset of the offending byte) and `errState` (H1_ST_*) set on the message.
 * It never throws.
 *
 * @module
 */
import { eqNoCase, HEXVAL, lc, TCHAR, URICHAR, VALCHAR } from "./h1_chars.ts";
import {
  H1_MF_ABS_URI,
  H1_MF_CHNK,
  H1_MF_CLEN,
  H1_MF_CONN_CLOSE,
  H1_MF_CONN_HDRS,
  H1_MF_CONN_KAL,
  H1_MF_CONN_UPG,
  H1_MF_EXPECT_100,
  H1_MF_HOST,
  H1_MF_RESP,
  H1_MF_TE,
  H1_MF_UPGRADE,
  H1_MF_VER_11,
  H1_ST_HDR_NAME,
  H1_ST_HDR_VAL,
  H1_ST_HDRS,
  H1_ST_START,
  type H1Limits,
  HTTP_METH_CONNECT,
  HTTP_METH_DELETE,
  HTTP_METH_GET,
  HTTP_METH_HEAD,
  HTTP_METH_OPTIONS,
  HTTP_METH_OTHER,
  HTTP_METH_PATCH,
  HTTP_METH_POST,
  HTTP_METH_PUT,
  HTTP_METH_TRACE,
  type HttpMsg,
} from "./h1_types.ts";

const CR = 0x0d, LF = 0x0a, SP = 0x20, HT = 0x09, COLON = 0x3a, COMMA = 0x2c;

const N_CONTENT_LENGTH = lc("content-length");
const N_TRANSFER_ENCODING = lc("transfer-encoding");
const N_CONNECTION = lc("connection");
const N_HOST = lc("host");
const N_UPGRADE = lc("upgrade");
const N_EXPECT = lc("expect");
const V_CLOSE = lc("close");
const V_KEEP_ALIVE = lc("keep-alive");
const V_UPGRADE = lc("upgrade");
const V_CHUNKED = lc("chunked");
const V_100_CONTINUE = lc("100-continue");
/** Transfer codings we know (RFC 9110 §18.8); others get 501. */
const KNOWN_CODINGS = ["gzip", "x-gzip", "deflate", "compress", "x-compress"].map(lc);

const METHODS: [Uint8Array, number][] = [
  [lc("GET"), HTTP_METH_GET],
  [lc("HEAD"), HTTP_METH_HEAD],
  [lc("POST"), HTTP_METH_POST],
  [lc("PUT"), HTTP_METH_PUT],
  [lc("DELETE"), HTTP_METH_DELETE],
  [lc("OPTIONS"), HTTP_METH_OPTIONS],
  [lc("CONNECT"), HTTP_METH_CONNECT],
  [lc("TRACE"), HTTP_METH_TRACE],
  [lc("PATCH"), HTTP_METH_PATCH],
];

/** Methods are case-sensitive: compare exactly against the uppercase name. */
function methodCode(a: Uint8Array, pos: number, len: number): number {
  for (const [name, code] of METHODS) {
    if (name.length !== len) continue;
    let same = true;
    for (let i = 0; i < len; i++) {
      if (a[pos + i] !== (name[i] & 0xdf)) {
        same = false;
        break;
      }
    }
    if (same) return code;
  }
  return HTTP_METH_OTHER;
}

function fail(msg: HttpMsg, code: number, pos: number, state: number, why: string): number {
  msg.errCode = code;
  msg.errPos = pos;
  msg.errState = state;
  msg.errMsg = why;
  return -1;
}

/**
 * Parses the head of a request (or a response when `msg.flags` has
 * H1_MF_RESP) held in `a[base, base + avail)`. See the module doc for the
 * return value. Offsets recorded in `msg` are relative to `base`.
 */
export function h1ParseHead(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  avail: number,
  lim: H1Limits,
): number {
  if (msg.headLen > 0) return msg.headLen;
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  // Phase 1: find the end of the head, from where the last call stopped.
  let i = msg.scanned;
  let lineStart = msg.scanLine;
  const end = avail < lim.maxHead ? avail : lim.maxHead;
  let found = -1;
  while (i < end) {
    const c = a[base + i];
    if (c === LF) {
      if (i === 0 || a[base + i - 1] !== CR) {
        return fail(
          msg,
          resp ? 502 : 400,
          i,
          msg.startLineEnd ? H1_ST_HDRS : H1_ST_START,
          "bare LF",
        );
      }
      if (msg.startLineEnd === 0) msg.startLineEnd = i;
      if (i - 1 === lineStart && lineStart > 0) {
        found = i + 1;
        break;
      }
      lineStart = i + 1;
    } else if (c === CR) {
      // Only look at the byte after a CR inside the scan window (`end`), so a
      // CR on the last byte maxHead allows gets the same answer (431/414)
      // however the bytes arrived.
      if (i + 1 < end && a[base + i + 1] !== LF) {
        return fail(
          msg,
          resp ? 502 : 400,
          i,
          msg.startLineEnd ? H1_ST_HDRS : H1_ST_START,
          "CR not followed by LF",
        );
      }
    }
    i++;
  }
  if (found < 0) {
    if (avail >= lim.maxHead) {
      // The head does not fit the buffer: request line or headers too long.
      if (resp) return fail(msg, 502, i, H1_ST_HDRS, "response head too large");
      return msg.startLineEnd === 0
        ? fail(msg, 414, i, H1_ST_START, "request line too long")
        : fail(msg, 431, i, H1_ST_HDRS, "header section too large");
    }
    // Re-check a trailing CR next time, with the byte after it.
    msg.scanned = i > 0 && a[base + i - 1] === CR ? i - 1 : i;
    msg.scanLine = lineStart;
    return 0;
  }
  const r = resp ? parseStatusLine(msg, a, base) : parseRequestLine(msg, a, base);
  if (r < 0) return r;
  const h = parseHeaders(msg, a, base, msg.startLineEnd + 1, found, lim);
  if (h < 0) return h;
  msg.headLen = found;
  return found;
}

function parseRequestLine(msg: HttpMsg, a: Uint8Array, base: number): number {
  const lineEnd = msg.startLineEnd - 1; // index of CR
  let i = 0;
  while (i < lineEnd && TCHAR[a[base + i]]) i++;
  if (i === 0 || a[base + i] !== SP) {
    return fail(msg, 400, i, H1_ST_START, i === 0 ? "empty method" : "invalid character in method");
  }
  msg.methPos = 0;
  msg.methLen = i;
  msg.meth = methodCode(a, base, i);
  const uStart = ++i;
  while (i < lineEnd && URICHAR[a[base + i]]) i++;
  if (i === uStart) return fail(msg, 400, i, H1_ST_START, "empty request target");
  if (i === lineEnd) {
    // "GET /path" with no version: HTTP/0.9, which we do not speak.
    return fail(msg, 400, i, H1_ST_START, "HTTP/0.9 request (no version)");
  }
  if (a[base + i] !== SP) {
    return fail(msg, 400, i, H1_ST_START, "invalid character in request target");
  }
  msg.uriPos = uStart;
  msg.uriLen = i - uStart;
  i++;
  const v = parseVersion(msg, a, base, i, lineEnd);
  if (v < 0) return v;
  if (v !== lineEnd) return fail(msg, 400, v, H1_ST_START, "garbage after the version");
  // Request-target forms (RFC 9112 §3.2).
  const first = a[base + msg.uriPos];
  if (msg.meth === HTTP_METH_CONNECT) {
    return fail(msg, 405, msg.methPos, H1_ST_START, "CONNECT is not supported");
  }
  if (first === 0x2f /* / */) return 0;
  if (first === 0x2a /* * */ && msg.uriLen === 1) {
    return msg.meth === HTTP_METH_OPTIONS
      ? 0
      : fail(msg, 400, uStart, H1_ST_START, "asterisk form outside OPTIONS");
  }
  if (absoluteFormAuthority(a, base + msg.uriPos, msg.uriLen) >= 0) {
    msg.flags |= H1_MF_ABS_URI;
    return 0;
  }
  return fail(msg, 400, uStart, H1_ST_START, "invalid request target");
}

/**
 * For an absolute-form target (`http://authority/path`), returns the
 * offset of the authority from `pos`; -1 when `a[pos, pos+len)` is not one.
 */
export function absoluteFormAuthority(a: Uint8Array, pos: number, len: number): number {
  let i = 0;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), http or https only.
  while (i < len && i < 6 && a[pos + i] !== COLON) i++;
  if (i + 3 > len || a[pos + i] !== COLON || a[pos + i + 1] !== 0x2f || a[pos + i + 2] !== 0x2f) {
    return -1;
  }
  const scheme = String.fromCharCode(...a.subarray(pos, pos + i)).toLowerCase();
  if (scheme !== "http" && scheme !== "https") return -1;
  const auth = i + 3;
  let j = auth;
  while (j < len && a[pos + j] !== 0x2f && a[pos + j] !== 0x3f) j++;
  if (j === auth || !validAuthority(a, pos + auth, j - auth)) return -1;
  return auth;
}

/** End of the authority that starts at `auth` in an absolute-form target. */
export function absoluteFormPathPos(a: Uint8Array, pos: number, len: number, auth: number): number {
  let j = auth;
  while (j < len && a[pos + j] !== 0x2f && a[pos + j] !== 0x3f) j++;
  return j;
}

/** Host or authority syntax: reg-name or IPv4 or [IPv6], optional :port. */
export function validAuthority(a: Uint8Array, pos: number, len: number): boolean {
  if (len === 0) return true;
  let i = 0;
  if (a[pos] === 0x5b /* [ */) {
    while (i < len && a[pos + i] !== 0x5d) {
      const c = a[pos + i];
      if (i > 0 && !(HEXVAL[c] || c === COLON || c === 0x2e)) return false;
      i++;
    }
    if (i === len) return false;
    i++;
  } else {
    while (i < len && a[pos + i] !== COLON) {
      const c = a[pos + i];
      const ok = (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
        c === 0x2d || c === 0x2e || c === 0x5f || c === 0x7e;
      if (!ok) return false;
      i++;
    }
  }
  if (i === len) return true;
  if (a[pos + i] !== COLON) return false;
  i++;
  if (len - i > 5) return false;
  for (; i < len; i++) if (a[pos + i] < 0x30 || a[pos + i] > 0x39) return false;
  return true;
}

/** Parses "HTTP/1.x" at `i`; returns the index after it or -1. */
function parseVersion(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  i: number,
  lineEnd: number,
): number {
  const p = base + i;
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  if (
    lineEnd - i < 8 || a[p] !== 0x48 || a[p + 1] !== 0x54 || a[p + 2] !== 0x54 ||
    a[p + 3] !== 0x50 ||
    a[p + 4] !== 0x2f
  ) return fail(msg, resp ? 502 : 400, i, H1_ST_START, "invalid HTTP version");
  const maj = a[p + 5], dot = a[p + 6], min = a[p + 7];
  if (maj < 0x30 || maj > 0x39 || dot !== 0x2e || min < 0x30 || min > 0x39) {
    return fail(msg, resp ? 502 : 400, i, H1_ST_START, "invalid HTTP version");
  }
  if (maj !== 0x31 || (min !== 0x30 && min !== 0x31)) {
    return fail(msg, resp ? 502 : 505, i, H1_ST_START, "unsupported HTTP version");
  }
  if (min === 0x31) msg.flags |= H1_MF_VER_11;
  return i + 8;
}

function parseStatusLine(msg: HttpMsg, a: Uint8Array, base: number): number {
  const lineEnd = msg.startLineEnd - 1;
  const v = parseVersion(msg, a, base, 0, lineEnd);
  if (v < 0) return v;
  if (a[base + v] !== SP || lineEnd - v < 4) {
    return fail(msg, 502, v, H1_ST_START, "invalid status line");
  }
  let status = 0;
  for (let i = v + 1; i < v + 4; i++) {
    const c = a[base + i];
    if (c < 0x30 || c > 0x39) return fail(msg, 502, i, H1_ST_START, "invalid status code");
    status = status * 10 + (c - 0x30);
  }
  if (status < 100) return fail(msg, 502, v + 1, H1_ST_START, "invalid status code");
  msg.status = status;
  let i = v + 4;
  if (i < lineEnd) {
    if (a[base + i] !== SP) return fail(msg, 502, i, H1_ST_START, "invalid status line");
    i++;
    msg.reasonPos = i;
    for (; i < lineEnd; i++) {
      if (!VALCHAR[a[base + i]]) {
        return fail(msg, 502, i, H1_ST_START, "invalid character in reason");
      }
    }
    msg.reasonLen = lineEnd - msg.reasonPos;
  } else {
    msg.reasonPos = i;
    msg.reasonLen = 0;
  }
  return 0;
}

/** Parses header lines from `start` to the final CRLF that ends at `headEnd`. */
function parseHeaders(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  start: number,
  headEnd: number,
  lim: H1Limits,
): number {
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  const bad = resp ? 502 : 400;
  const hdrs = msg.hdrs;
  let i = start;
  let n = 0;
  let hostSeen = false;
  while (i < headEnd - 2) {
    const c0 = a[base + i];
    if (c0 === SP || c0 === HT) return fail(msg, bad, i, H1_ST_HDR_NAME, "obsolete line folding");
    const nameStart = i;
    while (TCHAR[a[base + i]]) i++;
    const nameLen = i - nameStart;
    if (nameLen === 0 || a[base + i] !== COLON) {
      const c = a[base + i];
      return fail(
        msg,
        bad,
        i,
        H1_ST_HDR_NAME,
        c === SP || c === HT ? "whitespace before the colon" : "invalid character in header name",
      );
    }
    i++;
    while (a[base + i] === SP || a[base + i] === HT) i++;
    const valStart = i;
    let valEnd = i;
    for (;;) {
      const c = a[base + i];
      if (c === CR) break;
      if (!VALCHAR[c]) {
        return fail(
          msg,
          bad,
          i,
          H1_ST_HDR_VAL,
          c === 0 ? "NUL in header value" : "control character in header value",
        );
      }
      i++;
      if (c !== SP && c !== HT) valEnd = i;
    }
    i += 2; // CRLF (phase 1 checked it)
    if (n >= lim.maxHdrs) {
      return fail(msg, resp ? 502 : 431, nameStart, H1_ST_HDRS, "too many headers");
    }
    const k = n * 4;
    hdrs[k] = nameStart;
    hdrs[k + 1] = nameLen;
    hdrs[k + 2] = valStart;
    hdrs[k + 3] = valEnd - valStart;
    n++;
    const r = headerSemantics(msg, a, base, nameStart, nameLen, valStart, valEnd - valStart, lim);
    if (r < 0) return r;
    if (r === 1) {
      if (hostSeen) return fail(msg, 400, nameStart, H1_ST_HDRS, "duplicate Host");
      hostSeen = true;
    }
  }
  msg.nHdrs = n;
  // Framing (RFC 9112 §6): both lengths is a smuggling shape, never forward it.
  const f = msg.flags;
  if ((f & H1_MF_TE) && (f & H1_MF_CLEN)) {
    return fail(msg, bad, start, H1_ST_HDRS, "both Transfer-Encoding and Content-Length");
  }
  if ((f & H1_MF_TE) && !(f & H1_MF_VER_11) && !resp) {
    return fail(msg, 400, start, H1_ST_HDRS, "Transfer-Encoding in an HTTP/1.0 request");
  }
  if ((f & H1_MF_TE) && !(f & H1_MF_CHNK) && !resp) {
    return fail(msg, 400, start, H1_ST_HDRS, "request Transfer-Encoding without final chunked");
  }
  if (!resp && (f & H1_MF_VER_11) && !hostSeen) {
    return fail(msg, 400, start, H1_ST_HDRS, "missing Host in an HTTP/1.1 request");
  }
  if (lim.maxBody > 0 && msg.bodyLen > lim.maxBody && !resp) {
    return fail(msg, 413, start, H1_ST_HDRS, "Content-Length above the limit");
  }
  return 0;
}

/**
 * Applies what a header means for framing and connection handling.
 * Returns -1 on error, 1 for a Host header, 0 otherwise.
 */
function headerSemantics(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  np: number,
  nl: number,
  vp: number,
  vl: number,
  _lim: H1Limits,
): number {
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  const bad = resp ? 502 : 400;
  const p = base + np;
  switch (nl) {
    case 4:
      if (!resp && eqNoCase(a, p, 4, N_HOST)) {
        if (!validAuthority(a, base + vp, vl)) {
          return fail(msg, 400, vp, H1_ST_HDR_VAL, "invalid Host");
        }
        msg.flags |= H1_MF_HOST;
        return 1;
      }
      return 0;
    case 6:
      if (!resp && eqNoCase(a, p, 6, N_EXPECT) && eqNoCase(a, base + vp, vl, V_100_CONTINUE)) {
        msg.flags |= H1_MF_EXPECT_100;
      }
      return 0;
    case 7:
      if (eqNoCase(a, p, 7, N_UPGRADE)) msg.flags |= H1_MF_UPGRADE;
      return 0;
    case 10:
      if (eqNoCase(a, p, 10, N_CONNECTION)) connectionTokens(msg, a, base + vp, vl);
      return 0;
    case 14:
      if (eqNoCase(a, p, 14, N_CONTENT_LENGTH)) {
        if (vl === 0 || vl > 16) return fail(msg, bad, vp, H1_ST_HDR_VAL, "invalid Content-Length");
        let v = 0;
        for (let i = 0; i < vl; i++) {
          const c = a[base + vp + i];
          if (c < 0x30 || c > 0x39) {
            return fail(msg, bad, vp + i, H1_ST_HDR_VAL, "invalid Content-Length");
          }
          v = v * 10 + (c - 0x30);
        }
        if (v > Number.MAX_SAFE_INTEGER) {
          return fail(msg, bad, vp, H1_ST_HDR_VAL, "Content-Length too large");
        }
        if ((msg.flags & H1_MF_CLEN) && msg.bodyLen !== v) {
          return fail(msg, bad, vp, H1_ST_HDR_VAL, "differing Content-Length values");
        }
        msg.flags |= H1_MF_CLEN;
        msg.bodyLen = v;
      }
      return 0;
    case 17:
      if (eqNoCase(a, p, 17, N_TRANSFER_ENCODING)) return transferCodings(msg, a, base, vp, vl);
      return 0;
  }
  return 0;
}

/** Reads the tokens of a Connection header. */
function connectionTokens(msg: HttpMsg, a: Uint8Array, p: number, len: number): void {
  let i = 0;
  while (i < len) {
    while (i < len && (a[p + i] === SP || a[p + i] === HT || a[p + i] === COMMA)) i++;
    const s = i;
    while (i < len && a[p + i] !== COMMA && a[p + i] !== SP && a[p + i] !== HT) i++;
    const l = i - s;
    if (l === 0) continue;
    if (eqNoCase(a, p + s, l, V_CLOSE)) msg.flags |= H1_MF_CONN_CLOSE;
    else if (eqNoCase(a, p + s, l, V_KEEP_ALIVE)) msg.flags |= H1_MF_CONN_KAL;
    else if (eqNoCase(a, p + s, l, V_UPGRADE)) msg.flags |= H1_MF_CONN_UPG;
    else msg.flags |= H1_MF_CONN_HDRS;
  }
}

/**
 * Reads a Transfer-Encoding list. Only a final "chunked" frames a message;
 * chunked elsewhere or twice is an error, an unknown coding is 501 (502 from
 * a server). Several TE headers form one list.
 */
function transferCodings(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  vp: number,
  vl: number,
): number {
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  const p = base + vp;
  let i = 0;
  let any = false;
  while (i <= vl) {
    while (i < vl && (a[p + i] === SP || a[p + i] === HT)) i++;
    const s = i;
    while (i < vl && TCHAR[a[p + i]]) i++;
    const l = i - s;
    while (i < vl && (a[p + i] === SP || a[p + i] === HT)) i++;
    if (l === 0 || (i < vl && a[p + i] !== COMMA)) {
      return fail(msg, resp ? 502 : 400, vp + i, H1_ST_HDR_VAL, "invalid Transfer-Encoding");
    }
    any = true;
    if (msg.flags & H1_MF_CHNK) {
      // Something after chunked: the message is not framed by chunked.
      return fail(msg, resp ? 502 : 400, vp + s, H1_ST_HDR_VAL, "chunked is not the final coding");
    }
    if (eqNoCase(a, p + s, l, V_CHUNKED)) msg.flags |= H1_MF_CHNK;
    else if (!KNOWN_CODINGS.some((k) => eqNoCase(a, p + s, l, k))) {
      return fail(msg, resp ? 502 : 501, vp + s, H1_ST_HDR_VAL, "unknown transfer coding");
    }
    i++; // past the comma (or the end)
  }
  if (!any) return fail(msg, resp ? 502 : 400, vp, H1_ST_HDR_VAL, "empty Transfer-Encoding");
  msg.flags |= H1_MF_TE;
  return 0;
}
