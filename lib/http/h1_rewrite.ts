/**
 * Rewriting an HTTP/1 head for forwarding: hop-by-hop headers removed
 * (Connection and the headers it names, Keep-Alive, TE, Trailer, Upgrade
 * unless upgrading, Proxy-Connection), an absolute-form target turned into
 * origin form with Host set from it, headers added (X-Forwarded-For, ...), a
 * Connection header of our own. The new head is written into a scratch area
 * (reused, so nothing is allocated per message beyond the added values);
 * the caller puts it in the buffer in place of the original.
 *
 * @module
 */
import { absoluteFormAuthority, absoluteFormPathPos } from "./h1_parser.ts";
import { eqNoCase, lc } from "./h1_chars.ts";
import { H1_MF_ABS_URI, H1_MF_CONN_HDRS, H1_MF_RESP, type HttpMsg } from "./h1_types.ts";

const H_CONNECTION = lc("connection");
const H_KEEP_ALIVE = lc("keep-alive");
const H_TE = lc("te");
const H_TRAILER = lc("trailer");
const H_UPGRADE = lc("upgrade");
const H_PROXY_CONNECTION = lc("proxy-connection");
const H_HOST = lc("host");
const H_CONTENT_LENGTH = lc("content-length");
const H_TRANSFER_ENCODING = lc("transfer-encoding");
const H_XFP = lc("x-forwarded-proto");

let scratch = new Uint8Array(32768);

/** What to change while rewriting a head. */
export interface RewriteOptions {
  /** Keep Upgrade and send `Connection: upgrade` (a 101 or upgrade request). */
  upgrade: boolean;
  /** Connection header to send: "close", "keep-alive" or null for none. */
  connection: string | null;
  /** Headers (lowercase names) to drop besides the hop-by-hop ones. */
  drop?: Uint8Array[];
  /** Headers to append, as [name, value] in ASCII. */
  add?: [string, string][];
  /** Request: a new request target (origin form, checked by the caller) instead of the parsed one. */
  target?: string;
}

function put(out: Uint8Array, pos: number, src: Uint8Array, from: number, len: number): number {
  // Header lines are short: a loop beats making a subarray view for each.
  if (len < 64) {
    for (let i = 0; i < len; i++) out[pos + i] = src[from + i];
  } else out.set(src.subarray(from, from + len), pos);
  return pos + len;
}

function putAscii(out: Uint8Array, pos: number, s: string): number {
  for (let i = 0; i < s.length; i++) out[pos++] = s.charCodeAt(i) & 0xff;
  return pos;
}

/** Lowercase names listed in a Connection header value, as byte arrays. */
function connectionNames(a: Uint8Array, p: number, len: number, into: Uint8Array[]): void {
  let i = 0;
  while (i < len) {
    while (i < len && (a[p + i] === 0x20 || a[p + i] === 0x09 || a[p + i] === 0x2c)) i++;
    const s = i;
    while (i < len && a[p + i] !== 0x2c && a[p + i] !== 0x20 && a[p + i] !== 0x09) i++;
    if (i > s) {
      const name = new Uint8Array(i - s);
      for (let k = 0; k < name.length; k++) {
        const c = a[p + s + k];
        name[k] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      }
      into.push(name);
    }
  }
}

function isHopByHop(a: Uint8Array, p: number, l: number, upgrade: boolean, resp: boolean): boolean {
  switch (l) {
    case 2:
      return !resp && eqNoCase(a, p, 2, H_TE);
    case 7:
      return (eqNoCase(a, p, 7, H_TRAILER)) || (!upgrade && eqNoCase(a, p, 7, H_UPGRADE));
    case 10:
      return eqNoCase(a, p, 10, H_CONNECTION) || eqNoCase(a, p, 10, H_KEEP_ALIVE);
    case 16:
      return eqNoCase(a, p, 16, H_PROXY_CONNECTION);
  }
  return false;
}

/**
 * Headers kept even when the Connection header names them: the framing we
 * forward the body by (dropping Content-Length or Transfer-Encoding while
 * forwarding the body they frame would desynchronise the next hop: request
 * smuggling), Host (HTTP/1.1 requires it), and Upgrade while upgrading
 * ("Connection: Upgrade, HTTP2-Settings" names it alongside other headers).
 */
function keptWhenNamed(a: Uint8Array, p: number, l: number, upgrade: boolean): boolean {
  switch (l) {
    case 4:
      return eqNoCase(a, p, 4, H_HOST);
    case 7:
      return upgrade && eqNoCase(a, p, 7, H_UPGRADE);
    case 14:
      return eqNoCase(a, p, 14, H_CONTENT_LENGTH);
    case 17:
      return eqNoCase(a, p, 17, H_TRANSFER_ENCODING);
  }
  return false;
}

/**
 * Writes the rewritten head of `msg` (parsed from `a` at `base`) and returns
 * it as a view of the scratch area; the view is valid until the next call.
 */
export function h1Rewrite(
  msg: HttpMsg,
  a: Uint8Array,
  base: number,
  opts: RewriteOptions,
): Uint8Array {
  const need = msg.headLen + 2048 + (opts.target?.length ?? 0) +
    (opts.add?.reduce((n, [k, v]) => n + k.length + v.length + 4, 0) ?? 0);
  if (scratch.length < need) scratch = new Uint8Array(need * 2);
  const out = scratch;
  const resp = (msg.flags & H1_MF_RESP) !== 0;
  let o = 0;
  let hostValue: [number, number] | null = null;
  // Start line.
  if (!resp && (msg.flags & H1_MF_ABS_URI)) {
    // "GET http://host:port/path HTTP/1.1" becomes "GET /path HTTP/1.1"
    // with "Host: host:port" (RFC 9112 §3.2.2: the target's authority wins).
    const up = base + msg.uriPos;
    const auth = absoluteFormAuthority(a, up, msg.uriLen);
    const pathPos = absoluteFormPathPos(a, up, msg.uriLen, auth);
    hostValue = [up + auth, pathPos - auth];
    o = put(out, o, a, base, msg.methLen + 1);
    if (opts.target !== undefined) o = putAscii(out, o, opts.target);
    else {
      if (pathPos === msg.uriLen || a[up + pathPos] === 0x3f /* ? */) out[o++] = 0x2f;
      o = put(out, o, a, up + pathPos, msg.uriLen - pathPos);
    }
    o = put(
      out,
      o,
      a,
      base + msg.uriPos + msg.uriLen,
      msg.startLineEnd + 1 - msg.uriPos - msg.uriLen,
    );
  } else if (!resp && opts.target !== undefined) {
    o = put(out, o, a, base, msg.methLen + 1);
    o = putAscii(out, o, opts.target);
    const vpos = msg.uriPos + msg.uriLen;
    o = put(out, o, a, base + vpos, msg.startLineEnd + 1 - vpos);
  } else {
    o = put(out, o, a, base, msg.startLineEnd + 1);
  }
  // Headers named in Connection are hop-by-hop too.
  let named: Uint8Array[] | null = null;
  const hdrs = msg.hdrs;
  if (msg.flags & H1_MF_CONN_HDRS) {
    named = [];
    for (let h = 0; h < msg.nHdrs; h++) {
      const k = h * 4;
      if (eqNoCase(a, base + hdrs[k], hdrs[k + 1], H_CONNECTION)) {
        connectionNames(a, base + hdrs[k + 2], hdrs[k + 3], named);
      }
    }
  }
  const drop = opts.drop;
  let seenClen = false;
  for (let h = 0; h < msg.nHdrs; h++) {
    const k = h * 4;
    const np = base + hdrs[k], nl = hdrs[k + 1];
    if (isHopByHop(a, np, nl, opts.upgrade, resp)) continue;
    if (hostValue !== null && nl === 4 && eqNoCase(a, np, 4, H_HOST)) continue;
    if (
      named !== null && !keptWhenNamed(a, np, nl, opts.upgrade) &&
      named.some((n) => eqNoCase(a, np, nl, n))
    ) continue;
    if (drop !== undefined && drop.length > 0 && drop.some((n) => eqNoCase(a, np, nl, n))) continue;
    // Identical duplicate Content-Length fields (the parser rejects
    // differing ones) go out as one (RFC 9110 §8.6).
    if (nl === 14 && eqNoCase(a, np, 14, H_CONTENT_LENGTH)) {
      if (seenClen) continue;
      seenClen = true;
    }
    // The whole original line, name to CRLF, value untouched.
    const lineEnd = base + hdrs[k + 2] + hdrs[k + 3];
    let e = lineEnd;
    while (a[e] !== 0x0d) e++;
    o = put(out, o, a, np, e + 2 - np);
  }
  // A Host set by a rule or hook (dropped and added) wins over the URI's.
  if (hostValue !== null && !(drop?.some((n) => n.length === 4 && eqNoCase(n, 0, 4, H_HOST)))) {
    o = putAscii(out, o, "Host: ");
    o = put(out, o, a, hostValue[0], hostValue[1]);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  if (opts.upgrade) o = putAscii(out, o, "Connection: upgrade\r\n");
  else if (opts.connection !== null) o = putAscii(out, o, `Connection: ${opts.connection}\r\n`);
  if (opts.add) {
    for (const [name, value] of opts.add) o = putAscii(out, o, `${name}: ${value}\r\n`);
  }
  out[o++] = 0x0d;
  out[o++] = 0x0a;
  return out.subarray(0, o);
}

/** Lowercase X-Forwarded-Proto, for callers that replace the client's one. */
export const X_FORWARDED_PROTO = H_XFP;
